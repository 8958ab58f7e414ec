//! The storage-version row, run in the target cluster: a CRD whose objects were stored at
//! v1beta1 gets v1 as its storage version; `godwit storage-version migrate` must leave
//! `status.storedVersions == [v1]`, after which the API server accepts dropping v1beta1 from
//! `spec.versions` (it refused before: the proof that nothing claims to be stored there) and
//! every object still reads at v1 (a real server cannot decode an object left at a version no
//! longer in `spec.versions`). A second CRD, whose stale version is `served: false`, must be
//! refused with the reason and left as it was.

use std::time::Duration;

use kube::api::{Api, DynamicObject, ListParams, PostParams};
use serde_json::{Value, json};

use crate::clusters::Cluster;
use crate::godwit::Godwit;
use crate::kubeapi::{self, create, create_if_missing, wait_until};
use crate::objects;
use crate::report::{Check, Observation};
use crate::scenarios::{self, CUSTOM_KIND, Names};

/// Objects the migrated CRD holds: several pages at [`PAGE_SIZE`].
const OBJECTS: usize = 25;
/// The page size the command is run with.
const PAGE_SIZE: &str = "10";
/// The rule the row records when the command migrated and the proof held.
pub const MIGRATED: &str = "storageVersionMigrated";
/// The group name (within the run) of the CRD that must be refused.
const REFUSED: &str = "storage-version-refused";

/// Runs the row's steps and returns its observation; a step that cannot run becomes a failed
/// check.
pub(crate) async fn run(
    godwit: &Godwit,
    target: &Cluster,
    names: &Names,
    scenario: &str,
    server_namespace: &str,
) -> Observation {
    let mut observation = Observation::default();
    if let Err(err) = steps(
        godwit,
        target,
        names,
        scenario,
        server_namespace,
        &mut observation,
    )
    .await
    {
        observation.checks.push(Check::new(
            format!("the storage-version steps ran ({err:#})"),
            false,
        ));
    }
    observation
}

fn versions(list: &[(&str, bool, bool)]) -> Value {
    list.iter()
        .map(|(name, served, storage)| {
            json!({"name": name, "served": served, "storage": storage,
                   "schema": {"openAPIV3Schema": {"type": "object",
                              "x-kubernetes-preserve-unknown-fields": true}}})
        })
        .collect()
}

fn crds(client: &kube::Client) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &objects::custom_resource_definitions())
}

fn stored_versions(crd: &DynamicObject) -> Vec<String> {
    crd.data
        .pointer("/status/storedVersions")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Writes `spec.versions` of a CRD (re-reading it on a conflict); the server's answer.
async fn set_versions(
    client: &kube::Client,
    name: &str,
    list: &[(&str, bool, bool)],
) -> anyhow::Result<Result<DynamicObject, kube::Error>> {
    for _ in 0..5 {
        let mut crd = crds(client).get(name).await?;
        crd.data["spec"]["versions"] = versions(list);
        match crds(client)
            .replace(name, &PostParams::default(), &crd)
            .await
        {
            Err(kube::Error::Api(status)) if status.code == 409 => continue,
            other => return Ok(other),
        }
    }
    anyhow::bail!("CRD {name} kept changing while its versions were written")
}

/// Creates a CRD stored at v1beta1 holding `count` objects in `namespace`, then makes v1 its
/// storage version, v1beta1 served as given; the CRD's name.
async fn set_up_crd(
    client: &kube::Client,
    names: &Names,
    scenario: &str,
    namespace: &str,
    count: usize,
    v1beta1_served: bool,
) -> anyhow::Result<String> {
    let name = names.group_resource(scenario);
    let crd = scenarios::custom_resource_definition(names, scenario, &["v1beta1"]);
    create(client, &objects::custom_resource_definitions(), &crd).await?;
    kubeapi::wait_established(client, &name).await?;
    let resource = objects::widgets(names, scenario, "v1beta1");
    for index in 0..count {
        let body = json!({
            "apiVersion": resource.api_version, "kind": CUSTOM_KIND,
            "metadata": {"name": format!("w{index:02}"), "namespace": namespace},
            "spec": {"size": index},
        });
        // A real API server may take a moment to serve a freshly established CRD.
        wait_until(
            &format!("{} to accept a {CUSTOM_KIND}", names.group(scenario)),
            Duration::from_secs(30),
            || async { create(client, &resource, &body).await.map(|()| true) },
        )
        .await?;
    }
    set_versions(
        client,
        &name,
        &[("v1beta1", v1beta1_served, false), ("v1", true, true)],
    )
    .await??;
    // A real API server serves a version added to a CRD a moment after accepting the change:
    // until then a request at v1 answers a plain "404 page not found".
    let at_v1: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &objects::widgets(names, scenario, "v1"),
    );
    wait_until(
        &format!("{name} to serve v1"),
        Duration::from_secs(30),
        || async {
            at_v1
                .list(&ListParams::default().limit(1))
                .await
                .map(|_| true)
                .map_err(anyhow::Error::from)
        },
    )
    .await?;
    Ok(name)
}

/// `(name, resourceVersion)` of every object of a CRD, read at v1 (the listing must work).
async fn objects_at_v1(
    client: &kube::Client,
    names: &Names,
    scenario: &str,
    namespace: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &objects::widgets(names, scenario, "v1"),
    );
    let list = api.list(&ListParams::default()).await?;
    Ok(list
        .items
        .into_iter()
        .map(|object| {
            (
                object.metadata.name.unwrap_or_default(),
                object.metadata.resource_version.unwrap_or_default(),
            )
        })
        .collect())
}

async fn steps(
    godwit: &Godwit,
    target: &Cluster,
    names: &Names,
    scenario: &str,
    server_namespace: &str,
    observation: &mut Observation,
) -> anyhow::Result<()> {
    let client = &target.client;
    let checks = &mut observation.checks;
    let namespace = format!("{}-sv", names.namespace());
    create_if_missing(
        client,
        &objects::namespaces(),
        &objects::namespace(names, &namespace),
    )
    .await?;

    // The CRD to migrate.
    let name = set_up_crd(client, names, scenario, &namespace, OBJECTS, true).await?;
    let stored = stored_versions(&crds(client).get(&name).await?);
    checks.push(Check::new(
        format!("with v1 made the storage version, {name} lists storedVersions [v1beta1, v1] (it lists {stored:?})"),
        stored == ["v1beta1", "v1"],
    ));
    let refused = set_versions(client, &name, &[("v1", true, true)]).await?;
    checks.push(Check::new(
        format!(
            "before the migration the API server refuses to drop v1beta1 from spec.versions ({})",
            refused
                .as_ref()
                .map_or_else(|err| err.to_string(), |_| "it accepted".to_owned())
        ),
        matches!(&refused, Err(kube::Error::Api(status)) if status.code == 422),
    ));

    let output = godwit
        .run(
            target,
            server_namespace,
            &[
                "storage-version",
                "migrate",
                &name,
                "--page-size",
                PAGE_SIZE,
            ],
        )
        .await?;
    print!("{}", output.stdout);
    let said = format!("rewrote {OBJECTS} objects at v1");
    checks.push(Check::new(
        format!("`godwit storage-version migrate {name}` succeeds saying it {said}"),
        output.success && output.stdout.contains(&said),
    ));
    if !output.success {
        checks.push(Check::new(output.transcript(), false));
    }
    let stored = stored_versions(&crds(client).get(&name).await?);
    let trimmed = stored == ["v1"];
    checks.push(Check::new(
        format!("after the migration {name} lists storedVersions [v1] (it lists {stored:?})"),
        trimmed,
    ));
    let dropped = set_versions(client, &name, &[("v1", true, true)]).await?;
    let dropped_ok = dropped.is_ok();
    checks.push(Check::new(
        format!(
            "the API server then accepts dropping v1beta1 from spec.versions{}",
            dropped
                .err()
                .map(|err| format!(" (it answered {err})"))
                .unwrap_or_default()
        ),
        dropped_ok,
    ));
    // Every object, one by one, at v1 (a real server answers 500 for one it cannot decode).
    let widgets: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &namespace,
        &objects::widgets(names, scenario, "v1"),
    );
    let mut unreadable = Vec::new();
    for index in 0..OBJECTS {
        let object = format!("w{index:02}");
        let mut last = None;
        for _ in 0..20 {
            match widgets.get(&object).await {
                Ok(_) => {
                    last = None;
                    break;
                }
                Err(err) => last = Some(err.to_string()),
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        if let Some(err) = last {
            unreadable.push(format!("{object}: {err}"));
        }
    }
    let all_read = unreadable.is_empty();
    checks.push(Check::new(
        format!(
            "all {OBJECTS} objects read at v1 once v1beta1 is gone{}",
            if all_read {
                String::new()
            } else {
                format!(" (unreadable: {})", unreadable.join("; "))
            }
        ),
        all_read,
    ));
    if dropped_ok && all_read {
        observation.found_at_expected = true;
        observation.restored_version = Some("v1".to_owned());
    }
    if output.success && trimmed {
        observation.rule = Some(MIGRATED.to_owned());
    }

    // The CRD to refuse: v1beta1 is stored but no longer served.
    let checks = &mut observation.checks;
    let refused_name = set_up_crd(client, names, REFUSED, &namespace, 3, false).await?;
    let before = objects_at_v1(client, names, REFUSED, &namespace).await?;
    let output = godwit
        .run(
            target,
            server_namespace,
            &["storage-version", "migrate", &refused_name],
        )
        .await?;
    print!("{}", output.stdout);
    let reason = "stored version v1beta1 is not served";
    checks.push(Check::new(
        format!("`godwit storage-version migrate {refused_name}` fails, saying \"{reason}\""),
        !output.success && output.stdout.contains("refused") && output.stdout.contains(reason),
    ));
    let stored = stored_versions(&crds(client).get(&refused_name).await?);
    let after = objects_at_v1(client, names, REFUSED, &namespace).await?;
    checks.push(Check::new(
        format!(
            "the refused CRD keeps storedVersions [v1beta1, v1] (it lists {stored:?}) and its \
             objects are untouched"
        ),
        stored == ["v1beta1", "v1"] && before == after && before.len() == 3,
    ));
    Ok(())
}
