use super::*;

fn rule(fault: Fault, fraction: f64, path: Option<&str>, method: Option<&str>) -> FaultRule {
    FaultRule {
        fault,
        fraction,
        path_contains: path.map(str::to_owned),
        method: method.map(str::to_owned),
    }
}

/// Runs `decide` with a fixed draw for every rule.
fn check(rules: &[FaultRule], method: &str, path: &str, draw: f64, expected: Decision) {
    assert_eq!(
        decide(rules, method, path, || draw),
        expected,
        "{method} {path}"
    );
}

#[test]
fn rules_apply_by_path_method_and_fraction() {
    let drop = rule(
        Fault::DropConnection,
        1.0,
        Some("/configmaps"),
        Some("post"),
    );
    let slow = rule(Fault::Latency { millis: 30 }, 0.5, None, None);
    let busy = rule(
        Fault::TooManyRequests {
            retry_after_secs: 2,
        },
        1.0,
        None,
        None,
    );
    let dropped = Decision {
        delay: Duration::ZERO,
        failure: Some(Fault::DropConnection),
    };
    check(
        std::slice::from_ref(&drop),
        "POST",
        "/api/v1/namespaces/a/configmaps",
        0.3,
        dropped,
    );
    check(
        std::slice::from_ref(&drop),
        "GET",
        "/api/v1/namespaces/a/configmaps",
        0.3,
        Decision::default(),
    );
    check(
        std::slice::from_ref(&drop),
        "POST",
        "/api/v1/namespaces/a/secrets",
        0.3,
        Decision::default(),
    );
    check(
        std::slice::from_ref(&slow),
        "GET",
        "/api",
        0.49,
        Decision {
            delay: Duration::from_millis(30),
            failure: None,
        },
    );
    check(
        std::slice::from_ref(&slow),
        "GET",
        "/api",
        0.5,
        Decision::default(),
    );
    // Latency adds up and the first failing rule wins.
    check(
        &[slow.clone(), slow, busy.clone(), drop],
        "POST",
        "/configmaps",
        0.0,
        Decision {
            delay: Duration::from_millis(60),
            failure: Some(Fault::TooManyRequests {
                retry_after_secs: 2,
            }),
        },
    );
    check(
        &[rule(Fault::ServerError { code: 503 }, 0.0, None, None)],
        "GET",
        "/",
        0.0,
        Decision::default(),
    );
}

#[test]
fn handle_counts_injected_requests_and_clears() {
    let faults = Faults::default();
    assert!(!faults.decide("GET", "/api").is_fault());
    faults.add(rule(
        Fault::ServerError { code: 500 },
        1.0,
        Some("/apis"),
        None,
    ));
    assert!(faults.decide("GET", "/apis/apps").is_fault());
    assert!(!faults.decide("GET", "/api/v1").is_fault());
    assert_eq!(faults.injected(), 1);
    assert_eq!(faults.rules().len(), 1);
    faults.clear();
    assert!(!faults.decide("GET", "/apis/apps").is_fault());
    assert_eq!(faults.injected(), 1);
}

#[test]
fn fraction_is_roughly_honoured() {
    let faults = Faults::default();
    faults.add(rule(Fault::DropConnection, 0.25, None, None));
    let hits = (0..4000)
        .filter(|_| faults.decide("GET", "/").is_fault())
        .count();
    assert!((800..1200).contains(&hits), "{hits} of 4000");
}

#[test]
fn rules_read_the_documented_json() {
    let parsed: FaultRule = serde_json::from_str(
        r#"{"fault":{"type":"tooManyRequests","retry_after_secs":3},"path_contains":"/pods"}"#,
    )
    .unwrap();
    assert_eq!(
        parsed,
        rule(
            Fault::TooManyRequests {
                retry_after_secs: 3
            },
            1.0,
            Some("/pods"),
            None
        )
    );
    let latency: Fault = serde_json::from_str(r#"{"type":"latency","millis":5}"#).unwrap();
    assert_eq!(latency, Fault::Latency { millis: 5 });
    let drop: Fault = serde_json::from_str(r#"{"type":"dropConnection"}"#).unwrap();
    assert_eq!(drop, Fault::DropConnection);
}
