use super::*;

fn entry(rv: u64) -> Entry {
    Entry {
        rv,
        json: Bytes::from_static(b"{}"),
        labels: Labels::default(),
    }
}

#[test]
fn continue_tokens_match_the_api_server_format() {
    // The token in cm-list-limit2.body, taken after c1 and c2 at resourceVersion 48470.
    let sample: Value = godwit_fixtures::read_json("apiserver/cm-list-limit2.body");
    let token = sample["metadata"]["continue"].as_str().unwrap();
    let decoded = Continue::decode(token).unwrap();
    assert_eq!(decoded, Continue::after(48470, "c2"));
    // Encoding is byte-for-byte what the API server wrote (Go escapes the NUL as \u0000).
    assert_eq!(Continue::after(48470, "c2").encode(), token);
}

#[test]
fn bad_continue_tokens_are_refused() {
    for bad in [
        "!!!",
        "e30",
        &crate::catalog::base64_url(br#"{"v":"x","rv":1,"start":"a"}"#),
        &crate::catalog::base64_url(br#"{"v":"meta.k8s.io/v1","rv":1,"start":"../a"}"#),
    ] {
        assert!(Continue::decode(bad).is_err(), "{bad}");
    }
}

#[test]
fn scans_follow_key_order_below_a_prefix() {
    let gr = GroupResource {
        group: String::new(),
        resource: "configmaps".to_owned(),
    };
    let mut store = Store::default();
    for key in ["a/x", "a/y", "a-b/z", "b/x"] {
        let rv = store.next_rv();
        store.put(&gr, key.to_owned(), entry(rv));
    }
    let keys = |prefix: &str, start: Option<&str>| -> Vec<String> {
        store
            .scan(&gr, prefix, start)
            .map(|(k, _)| k.clone())
            .collect()
    };
    // etcd order: "a-b/" sorts before "a/" because '-' < '/'.
    assert_eq!(keys("", None), ["a-b/z", "a/x", "a/y", "b/x"]);
    assert_eq!(keys("a/", None), ["a/x", "a/y"]);
    assert_eq!(keys("a/", Some("a/x\u{0}")), ["a/y"]);
    assert_eq!(keys("", Some("a/y\u{0}")), ["b/x"]);
    assert_eq!(store.resource_version(), 4);
    assert!(store.remove(&gr, "a/x").is_some());
    assert_eq!(store.keys(&gr, "a/"), ["a/y"]);
    assert!(store.get(&gr, "a/x").is_none());
}
