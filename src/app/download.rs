//! Offering text as a file download (the person's examples).

use wasm_bindgen::JsCast;

/// Offers `text` as a file download named `name` (an object URL on a temporary link,
/// revoked when it goes out of scope).
pub(super) fn download(name: &str, text: &str) -> Result<(), String> {
    let url =
        gloo::file::ObjectUrl::from(gloo::file::Blob::new_with_options(text, Some("text/plain")));
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| "Your browser would not save the file.".to_string())?
        .dyn_into()
        .map_err(|_| "no link element".to_string())?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    Ok(())
}
