//! Ingress from `extensions/v1beta1` and `networking.k8s.io/v1beta1` (one schema) to
//! `networking.k8s.io/v1`, as upstream's `pkg/apis/networking/v1beta1/conversion.go` and
//! `defaults.go` do it.

use serde_json::{Map, Value};

use crate::Lossy;
use crate::fields::{each_object, join, lossy, object_mut, refuse_leftovers, take};

/// What v1beta1 defaulted a missing `pathType` to; v1 requires the field.
const DEFAULT_PATH_TYPE: &str = "ImplementationSpecific";

/// The only `ipMode` v1beta1's defaulting ever wrote; v1's load-balancer status has no such field.
const DEFAULT_IP_MODE: &str = "VIP";

/// Rewrites a v1beta1 Ingress (either group) into `networking.k8s.io/v1`.
pub(crate) fn to_v1(object: &mut Map<String, Value>) -> Result<(), Lossy> {
    if let Some(spec) = object_mut(object, "spec", "")? {
        if let Some(backend) = take(spec, "backend") {
            let backend = backend_to_v1(backend, "spec.backend")?;
            spec.insert("defaultBackend".to_owned(), backend);
        }
        each_object(spec, "rules", "spec", |rule, rule_path| {
            let http_path = join(rule_path, "http");
            let Some(http) = object_mut(rule, "http", rule_path)? else {
                return Ok(());
            };
            each_object(http, "paths", &http_path, |http_ingress_path, path| {
                if http_ingress_path.get("pathType").is_none_or(Value::is_null) {
                    http_ingress_path.insert("pathType".to_owned(), DEFAULT_PATH_TYPE.into());
                }
                if let Some(backend) = take(http_ingress_path, "backend") {
                    let backend = backend_to_v1(backend, &join(path, "backend"))?;
                    http_ingress_path.insert("backend".to_owned(), backend);
                }
                Ok(())
            })
        })?;
    }
    if let Some(status) = object_mut(object, "status", "")?
        && let Some(load_balancer) = object_mut(status, "loadBalancer", "status")?
    {
        each_object(
            load_balancer,
            "ingress",
            "status.loadBalancer",
            drop_default_ip_mode,
        )?;
    }
    Ok(())
}

/// `serviceName` and `servicePort` become `service.name` and `service.port.number` (an
/// integer) or `service.port.name` (a string); `resource` stays.
fn backend_to_v1(backend: Value, path: &str) -> Result<Value, Lossy> {
    let Value::Object(mut old) = backend else {
        return Err(lossy(path, "is not an object"));
    };
    let mut new = Map::new();
    let service_name = take(&mut old, "serviceName");
    let service_port = take(&mut old, "servicePort");
    if service_name.is_some() || service_port.is_some() {
        let mut service = Map::new();
        if let Some(name) = service_name {
            service.insert("name".to_owned(), name);
        }
        let mut port = Map::new();
        match service_port {
            None => {}
            Some(number @ Value::Number(_)) => {
                port.insert("number".to_owned(), number);
            }
            Some(name @ Value::String(_)) => {
                port.insert("name".to_owned(), name);
            }
            Some(_) => {
                return Err(lossy(
                    join(path, "servicePort"),
                    "is neither a port number nor a port name",
                ));
            }
        }
        service.insert("port".to_owned(), Value::Object(port));
        new.insert("service".to_owned(), Value::Object(service));
    }
    if let Some(resource) = take(&mut old, "resource") {
        new.insert("resource".to_owned(), resource);
    }
    refuse_leftovers(&old, path)?;
    Ok(Value::Object(new))
}

/// v1beta1 shared the Service's load-balancer status, which later gained `ipMode`; v1's has
/// none. The default carries nothing; any other mode would be lost.
fn drop_default_ip_mode(ingress: &mut Map<String, Value>, path: &str) -> Result<(), Lossy> {
    match ingress.get("ipMode") {
        None | Some(Value::Null) => {}
        Some(Value::String(mode)) if mode == DEFAULT_IP_MODE => {}
        Some(_) => {
            return Err(lossy(
                join(path, "ipMode"),
                "networking.k8s.io/v1 load-balancer status has no ipMode; \
                 restore without status or remove the field",
            ));
        }
    }
    ingress.remove("ipMode");
    Ok(())
}

#[cfg(test)]
mod tests;
