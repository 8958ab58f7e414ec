//! Fuzzes both label-selector parsers that read user text: the backup's (`kubectl`'s grammar,
//! canonical `Display`) and the restore's (`--selector`, `matchLabels`/`matchExpressions`).
//! Neither may panic; what the backup's accepts prints canonically and reads back the same, and
//! what the restore's accepts goes through its JSON shape unchanged. The backup's `MatchSelector`
//! (a Backup resource's `spec.labelSelector`) is also read from the input as JSON.
//!
//! godwit-backup itself depends on kube and tokio, which would make this project's cold build
//! take minutes; its selector module uses only std and serde, so it is compiled in from source.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_qualifications)]
#[path = "../../crates/backup/src/selector.rs"]
mod backup_selector;

fuzz_target!(|text: &str| {
    if let Ok(selector) = backup_selector::LabelSelector::parse(text) {
        let canonical = selector.to_string();
        let again = backup_selector::LabelSelector::parse(&canonical)
            .unwrap_or_else(|err| panic!("{canonical:?}, printed from {text:?}, fails: {err}"));
        assert_eq!(again, selector, "printed as {canonical:?}");
        assert!(selector.requirements().is_sorted_by_key(|r| r.key.clone()));
        let labels = labels_named_in(selector.requirements().iter().map(|r| r.key.as_str()));
        let _ = selector.matches(&labels);
    }

    if let Ok(selector) = godwit_restore::LabelSelector::parse(text) {
        let json = serde_json::to_string(&selector).expect("a selector serializes");
        let again: godwit_restore::LabelSelector =
            serde_json::from_str(&json).expect("a selector deserializes");
        assert_eq!(again, selector, "through {json}");
        // Its own matchLabels satisfy its matchLabels part.
        let only_labels = godwit_restore::LabelSelector {
            match_labels: selector.match_labels.clone(),
            match_expressions: Vec::new(),
        };
        assert!(only_labels.matches(&selector.match_labels));
        let keys = selector.match_expressions.iter().map(|e| e.key.as_str());
        let _ = selector.matches(&labels_named_in(keys));
    }

    if let Ok(structured) = serde_json::from_str::<backup_selector::MatchSelector>(text)
        && let Ok(text) = structured.to_text()
    {
        let selector = backup_selector::LabelSelector::parse(&text)
            .unwrap_or_else(|err| panic!("to_text wrote {text:?}, which fails: {err}"));
        // matchLabels alone are satisfied by themselves.
        let only_labels = backup_selector::MatchSelector {
            match_labels: structured.match_labels.clone(),
            match_expressions: Vec::new(),
        };
        let text = only_labels.to_text().expect("a part of a valid selector");
        let labels_only = backup_selector::LabelSelector::parse(&text).expect("written by to_text");
        assert!(labels_only.matches(&structured.match_labels), "{text:?}");
        let _ = selector.matches(&structured.match_labels);
    }
});

/// Labels with the given keys, with values that hit the integer comparisons too.
fn labels_named_in<'a>(keys: impl Iterator<Item = &'a str>) -> BTreeMap<String, String> {
    keys.enumerate()
        .map(|(index, key)| (key.to_owned(), (index as i64 - 1).to_string()))
        .collect()
}
