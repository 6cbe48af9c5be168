//! One binary for both targets: in the browser (wasm32) it starts the web app; natively it
//! is the trainer's command line.

#[cfg(target_arch = "wasm32")]
fn main() {
    digitpad::app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    match digitpad::cli::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
