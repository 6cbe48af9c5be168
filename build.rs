//! Fingerprints the shipped model so that the web app knows which model file it was built
//! with (`DIGITPAD_MODEL_FNV`): a page never runs a model from another version of the site
//! (see `src/app/page.rs` and `www/sw.js`).

include!("src/fingerprint.rs");

fn main() {
    const MODEL: &str = "model/digitnet.onnx";
    println!("cargo:rerun-if-changed={MODEL}");
    println!("cargo:rerun-if-changed=src/fingerprint.rs");
    let fingerprint = match std::fs::read(MODEL) {
        Ok(bytes) => fnv1a_hex(&bytes),
        // A checkout without the model can still build the trainer that makes it.
        Err(_) => "none".to_string(),
    };
    println!("cargo:rustc-env=DIGITPAD_MODEL_FNV={fingerprint}");
}
