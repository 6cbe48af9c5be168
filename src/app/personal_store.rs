//! The person's corrections, kept in this browser's `localStorage` (never sent anywhere) in
//! the text format of [`crate::personal::to_text`], and turned into a [`Personal`] for the
//! model in use. `web_sys::Storage` directly rather than `gloo::storage`: gloo stores values
//! as JSON, and the previous versions' plain-text examples must stay readable.

use std::collections::{HashMap, HashSet};

use crate::classifier::Classifier;
use crate::digit::PIXELS;
use crate::personal::{
    from_text, read_with_variations, reading, to_text, Example, Personal, Reading, PARAMS,
};

/// The `localStorage` key.
const KEY: &str = "digitpad-personal-examples";

/// Where stored examples that could not be read are set aside, untouched, before anything is
/// saved over them.
const UNREADABLE_KEY: &str = "digitpad-personal-examples-unreadable";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The stored examples and what the model makes of them.
#[derive(Debug, Default)]
pub struct PersonalStore {
    /// The corrections, oldest first.
    pub examples: Vec<Example>,
    /// What the current model read of each, its variations included (same order).
    readings: Vec<Vec<Reading>>,
    /// The same, as features of the current model.
    pub personal: Personal,
}

/// An example as stored (its label and bytes): two examples with the same key read the same.
type ExampleKey = (u8, [u8; PIXELS]);

fn key(example: &Example) -> ExampleKey {
    (example.label, example.image.to_bytes())
}

impl PersonalStore {
    /// Reads the examples this browser kept; `Err` names what was wrong with them. Text that
    /// cannot be read is first copied aside (under its own key, once), so that saving new
    /// examples later loses nothing.
    pub fn load() -> Result<Vec<Example>, String> {
        let Some(storage) = storage() else {
            return Ok(Vec::new());
        };
        let Some(text) = storage.get_item(KEY).ok().flatten() else {
            return Ok(Vec::new());
        };
        from_text(&text).map_err(|e| {
            let aside = match storage.get_item(UNREADABLE_KEY).ok().flatten() {
                Some(_) => true,
                None => storage.set_item(UNREADABLE_KEY, &text).is_ok(),
            };
            format!(
                "The examples this browser saved could not be read ({e}).{}",
                if aside {
                    " They are kept aside, untouched; new corrections start afresh."
                } else {
                    ""
                }
            )
        })
    }

    /// Replaces the examples and recomputes their features with `classifier` (each example
    /// with its variations, see [`crate::personal::VARIATIONS`]). Examples kept from before
    /// keep their readings: a correction reads its own drawing, not every example again.
    pub fn set(&mut self, examples: Vec<Example>, classifier: &Classifier) -> Result<(), String> {
        let mut known: HashMap<ExampleKey, Vec<Reading>> = self
            .examples
            .iter()
            .map(key)
            .zip(self.readings.iter().cloned())
            .collect();
        // The examples not read yet, each once (an import may repeat one).
        let mut missing: Vec<(ExampleKey, &Example)> = Vec::new();
        let mut seen = HashSet::new();
        for example in &examples {
            let k = key(example);
            if !known.contains_key(&k) && seen.insert(k) {
                missing.push((k, example));
            }
        }
        let images: Vec<_> = missing.iter().map(|(_, e)| e.image.clone()).collect();
        let fresh = read_with_variations(classifier, &images)
            .map_err(|e| format!("Your examples could not be read by the model: {e}"))?;
        for ((k, _), predictions) in missing.into_iter().zip(fresh) {
            known.insert(k, predictions.iter().map(reading).collect());
        }
        let readings: Vec<Vec<Reading>> = examples
            .iter()
            .map(|e| known.get(&key(e)).cloned().unwrap_or_default())
            .collect();
        self.personal = Personal::new(
            classifier.trust(),
            examples
                .iter()
                .zip(&readings)
                .map(|(e, r)| (usize::from(e.label), r.clone()))
                .collect(),
            PARAMS,
        );
        self.examples = examples;
        self.readings = readings;
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
