//! The model card's page form: `card.html` beside `README.md`, the card's Markdown as HTML
//! (tables and pictures included), which the site's "How it was trained" shows. Written
//! wherever the card is written, so a new model brings its own; the page only inserts it.

use std::path::Path;

use anyhow::Result;

use crate::files::write_atomically;

/// The card's Markdown file in a model folder.
pub const CARD_FILE: &str = "README.md";
/// The card's page form in a model folder (the name the page fetches).
pub const CARD_PAGE: &str = crate::MODEL_CARD_PAGE;

/// The card's Markdown as an HTML fragment (CommonMark with tables). Pictures keep their
/// paths relative to the model folder; the page resolves them there. A table column's
/// alignment becomes a class (`align-right`, ...) instead of the inline style pulldown-cmark
/// writes: the page's Content-Security-Policy refuses inline styles.
pub fn card_html(markdown: &str) -> String {
    use pulldown_cmark::{html, Options, Parser};
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, Parser::new_ext(markdown, Options::ENABLE_TABLES));
    ["left", "center", "right"].iter().fold(out, |html, side| {
        html.replace(
            &format!(r#" style="text-align: {side}""#),
            &format!(r#" class="align-{side}""#),
        )
    })
}

/// Writes the card (`README.md`) and its page form (`card.html`) into the model folder `out`.
pub fn write_card(out: &Path, markdown: &str) -> Result<()> {
    write_atomically(&out.join(CARD_FILE), markdown.as_bytes())?;
    write_atomically(&out.join(CARD_PAGE), card_html(markdown).as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_pictures_and_code_become_html() {
        let html = card_html(
            "# Card\n\nPictures: ![loss per epoch](loss.svg) `history.json`\n\n\
             | class | F1 |\n|---|---:|\n| 0 | 0.99 |\n",
        );
        assert!(html.contains("<h1>Card</h1>"), "{html}");
        assert!(
            html.contains(r#"<img src="loss.svg" alt="loss per epoch" />"#),
            "{html}"
        );
        assert!(html.contains("<code>history.json</code>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
        assert!(
            html.contains(r#"<td class="align-right">0.99</td>"#),
            "{html}"
        );
        assert!(!html.contains("style="), "no inline style: {html}");
    }

    #[test]
    fn the_shipped_cards_page_is_its_markdown() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("model");
        let markdown = std::fs::read_to_string(dir.join(CARD_FILE)).unwrap();
        let page = std::fs::read_to_string(dir.join(CARD_PAGE)).unwrap();
        assert!(
            page == card_html(&markdown),
            "model/card.html is not model/README.md's page form: after editing the card, run \
             `cargo run --release -- pictures model` to rewrite it"
        );
    }
}
