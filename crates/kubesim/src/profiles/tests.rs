use super::*;
use std::collections::BTreeSet;

fn check_parse(text: &str, expected: Option<Profile>) {
    assert_eq!(text.parse::<Profile>().ok(), expected, "{text}");
}

#[test]
fn profiles_parse_and_print_as_minor_versions() {
    check_parse("1.25", Some(Profile::V1_25));
    check_parse("1.33", Some(Profile::V1_33));
    check_parse("v1.33", Some(Profile::V1_33));
    check_parse("1.30", None);
    check_parse("", None);
    assert_eq!(Profile::V1_25.to_string(), "1.25");
    let err = "2.0".parse::<Profile>().unwrap_err().to_string();
    assert!(err.contains("1.25, 1.33"), "{err}");
}

fn group_versions(profile: Profile) -> BTreeSet<String> {
    builtin_resources(profile)
        .iter()
        .map(|d| format!("{}/{}", d.group, d.version))
        .collect()
}

#[test]
fn profiles_serve_what_their_minor_serves() {
    let old = group_versions(Profile::V1_25);
    let new = group_versions(Profile::V1_33);
    for gv in [
        "autoscaling/v2beta2",
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "storage.k8s.io/v1beta1",
    ] {
        assert!(old.contains(gv) && !new.contains(gv), "{gv}");
    }
    assert!(
        new.contains("flowcontrol.apiserver.k8s.io/v1")
            && !old.contains("flowcontrol.apiserver.k8s.io/v1")
    );
    // The groups godwit restores are in both.
    for gv in [
        "/v1",
        "apps/v1",
        "batch/v1",
        "autoscaling/v2",
        "autoscaling/v1",
        "policy/v1",
        "networking.k8s.io/v1",
        "rbac.authorization.k8s.io/v1",
        "storage.k8s.io/v1",
        "scheduling.k8s.io/v1",
        "apiextensions.k8s.io/v1",
        "coordination.k8s.io/v1",
    ] {
        assert!(old.contains(gv) && new.contains(gv), "{gv}");
    }
}

#[test]
fn core_v1_matches_the_recorded_discovery_names() {
    let sample: serde_json::Value = godwit_fixtures::read_json("apiserver/disc-api-v1.body");
    let recorded: BTreeSet<String> = sample["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    let ours: BTreeSet<String> = builtin_resources(Profile::V1_33)
        .iter()
        .filter(|d| d.group.is_empty())
        .flat_map(|d| {
            std::iter::once(d.plural.clone())
                .chain(
                    d.subresources
                        .iter()
                        .map(|s| format!("{}/{}", d.plural, s.name)),
                )
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ours, recorded);
    let old: BTreeSet<String> = builtin_resources(Profile::V1_25)
        .iter()
        .filter(|d| d.plural == "pods")
        .flat_map(|d| {
            d.subresources
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!old.contains("resize"));
}

/// One line per served resource: group/version, name, scope, verbs that are not the usual
/// eight, subresources, and what the server keeps for it.
fn listing(profile: Profile) -> String {
    builtin_resources(profile)
        .iter()
        .map(|d| {
            let gv = if d.group.is_empty() {
                d.version.clone()
            } else {
                format!("{}/{}", d.group, d.version)
            };
            let mut line = format!(
                "{gv} {} {}",
                d.plural,
                if d.namespaced {
                    "namespaced"
                } else {
                    "cluster"
                }
            );
            if d.verbs.len() != 8 {
                line.push_str(&format!(" verbs={}", d.verbs.join(",")));
            }
            if !d.subresources.is_empty() {
                let subs: Vec<&str> = d.subresources.iter().map(|s| s.name.as_str()).collect();
                line.push_str(&format!(" sub={}", subs.join(",")));
            }
            if d.storage_version != d.version || d.storage_group != d.group {
                line.push_str(&format!(
                    " stored={}/{}",
                    d.storage_group, d.storage_version
                ));
            }
            for (flag, name) in [
                (d.generation, "generation"),
                (d.returns_deleted_object, "delete-returns-object"),
            ] {
                if flag {
                    line.push(' ');
                    line.push_str(name);
                }
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn profile_tables() {
    insta::assert_snapshot!("v1_25", listing(Profile::V1_25));
    insta::assert_snapshot!("v1_33", listing(Profile::V1_33));
}
