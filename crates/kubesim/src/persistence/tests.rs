use super::*;

fn gr(resource: &str) -> GroupResource {
    GroupResource {
        group: String::new(),
        resource: resource.to_owned(),
    }
}

#[test]
fn journal_survives_a_restart_and_keeps_the_counter() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, snapshot) = Journal::open(dir.path()).unwrap();
    assert!(snapshot.objects.is_empty());
    journal.put(1, &gr("namespaces"), "a", br#"{"metadata":{"name":"a"}}"#);
    journal.put(2, &gr("configmaps"), "a/x", br#"{"metadata":{"name":"x"}}"#);
    journal.put(
        3,
        &gr("configmaps"),
        "a/x",
        br#"{"metadata":{"name":"x"},"data":{"k":"v"}}"#,
    );
    journal.put(4, &gr("configmaps"), "a/y", br#"{"metadata":{"name":"y"}}"#);
    journal.delete(5, &gr("configmaps"), "a/y");
    journal.close();

    let (journal, snapshot) = Journal::open(dir.path()).unwrap();
    assert_eq!(snapshot.rv, 5);
    let keys: Vec<(String, u64)> = snapshot
        .objects
        .iter()
        .map(|o| (o.key.clone(), o.rv))
        .collect();
    assert_eq!(keys, [("a/x".to_owned(), 3), ("a".to_owned(), 1)]);
    assert_eq!(
        &snapshot.objects[0].json[..],
        br#"{"data":{"k":"v"},"metadata":{"name":"x"}}"#
    );
    journal.close();

    // Compaction kept the counter even though the object that had it is gone.
    let (journal, snapshot) = Journal::open(dir.path()).unwrap();
    assert_eq!(snapshot.rv, 5);
    assert_eq!(snapshot.objects.len(), 2);
    journal.close();
}

#[test]
fn corrupt_lines_are_reported_with_their_number() {
    let text = "{\"rv\":1}\nnot json\n";
    let err = replay(Path::new("j"), text.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::CorruptData { line: 2, .. }), "{err}");
    let err = replay(Path::new("j"), "{\"key\":\"a\"}\n".as_bytes()).unwrap_err();
    assert!(err.to_string().contains("no \"rv\""), "{err}");
}
