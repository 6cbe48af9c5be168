//! The person's corrections, kept in this browser's `localStorage` (never sent anywhere) in
//! the text format of [`crate::personal::to_text`], and turned into a [`Personal`] for the
//! model in use.

use crate::classifier::Classifier;
use crate::personal::{from_text, to_text, Example, Personal, PARAMS};

/// The `localStorage` key.
const KEY: &str = "digitpad-personal-examples";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The stored examples and what the model makes of them.
#[derive(Debug, Default)]
pub struct PersonalStore {
    /// The corrections, oldest first.
    pub examples: Vec<Example>,
    /// The same, as features of the current model.
    pub personal: Personal,
}

impl PersonalStore {
    /// Reads the examples this browser kept; `Err` names what was wrong with them (they are
    /// then left alone, not overwritten, until the person changes them).
    pub fn load() -> Result<Vec<Example>, String> {
        let Some(text) = storage().and_then(|s| s.get_item(KEY).ok().flatten()) else {
            return Ok(Vec::new());
        };
        from_text(&text).map_err(|e| format!("Your saved examples could not be read ({e})"))
    }

    /// Replaces the examples and recomputes their features with `classifier`.
    pub fn set(&mut self, examples: Vec<Example>, classifier: &Classifier) -> Result<(), String> {
        let images: Vec<_> = examples.iter().map(|e| e.image.clone()).collect();
        let predictions = classifier
            .classify_batch(&images)
            .map_err(|e| format!("Your examples could not be read by the model: {e}"))?;
        self.personal = Personal::new(
            examples
                .iter()
                .zip(predictions)
                .map(|(e, p)| (usize::from(e.label), p.features))
                .collect(),
            PARAMS,
        );
        self.examples = examples;
        Ok(())
    }

    /// Writes the examples to `localStorage` (removes the key when there are none).
    pub fn save(&self) -> Result<(), String> {
        let storage = storage().ok_or("this browser keeps no local storage for this page")?;
        let done = if self.examples.is_empty() {
            storage.remove_item(KEY)
        } else {
            storage.set_item(KEY, &to_text(&self.examples))
        };
        done.map_err(|_| "the browser refused to save your examples (storage full?)".to_string())
    }

    /// The examples as a file's text, for export.
    pub fn export_text(&self) -> String {
        to_text(&self.examples)
    }
}
