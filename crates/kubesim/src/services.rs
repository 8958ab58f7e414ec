//! Service allocations: cluster IPs from 10.96.0.0/12 (a single-stack IPv4 cluster), node ports
//! from a configurable range, health-check node ports; with the API server's 422 errors.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::status::{ApiError, Cause};

/// The service cluster IP range, as `--service-cluster-ip-range` would give it.
const SERVICE_CIDR: &str = "10.96.0.0/12";
const SERVICE_NETWORK: u32 = u32::from_be_bytes([10, 96, 0, 0]);
const SERVICE_PREFIX: u32 = 12;

/// Node ports in use and the range they come from.
#[derive(Debug, Clone)]
pub(crate) struct NodePorts {
    range: std::ops::RangeInclusive<u16>,
    used: BTreeSet<u16>,
}

impl NodePorts {
    /// An allocator over `range`, nothing in use.
    pub(crate) fn new(range: std::ops::RangeInclusive<u16>) -> Self {
        Self {
            range,
            used: BTreeSet::new(),
        }
    }

    /// The range as the API server prints it: `30000-32767`.
    pub(crate) fn range_text(&self) -> String {
        format!("{}-{}", self.range.start(), self.range.end())
    }

    /// Whether a port is inside the range.
    pub(crate) fn in_range(&self, port: u16) -> bool {
        self.range.contains(&port)
    }

    /// Whether a port is in use.
    pub(crate) fn is_used(&self, port: u16) -> bool {
        self.used.contains(&port)
    }

    /// Marks a port used (whatever its range: objects loaded from disk keep theirs).
    pub(crate) fn take(&mut self, port: u16) {
        self.used.insert(port);
    }

    /// Frees a port.
    pub(crate) fn release(&mut self, port: u16) {
        self.used.remove(&port);
    }

    /// Picks a free port. Like the API server, dynamic allocation prefers the upper band of
    /// the range and leaves the lower band for ports users ask for by number.
    pub(crate) fn next_free(&self) -> Option<u16> {
        let start = u32::from(*self.range.start());
        let end = u32::from(*self.range.end());
        if end < start {
            return None;
        }
        let size = end - start + 1;
        let static_band = (size / 32).clamp(16, 128).min(size);
        let upper = (start + static_band..=end).chain(start..start + static_band);
        upper
            .filter_map(|p| u16::try_from(p).ok())
            .find(|p| !self.used.contains(p))
    }
}

/// Cluster IPs in use.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClusterIps {
    used: BTreeSet<u32>,
    cursor: u32,
}

impl ClusterIps {
    fn size() -> u32 {
        1 << (32 - SERVICE_PREFIX)
    }

    /// The offset of an address in the range, if it is a usable address of it.
    fn offset(ip: Ipv4Addr) -> Option<u32> {
        let value = u32::from(ip);
        let offset = value.wrapping_sub(SERVICE_NETWORK);
        (value >= SERVICE_NETWORK && offset > 0 && offset < Self::size() - 1).then_some(offset)
    }

    /// Marks an address used.
    pub(crate) fn take(&mut self, ip: Ipv4Addr) {
        if let Some(offset) = Self::offset(ip) {
            self.used.insert(offset);
        }
    }

    /// Frees an address.
    pub(crate) fn release(&mut self, ip: Ipv4Addr) {
        if let Some(offset) = Self::offset(ip) {
            self.used.remove(&offset);
        }
    }

    /// Picks a free address, starting above the static band (the first 256 addresses) the way
    /// the API server prefers for dynamic allocation.
    pub(crate) fn next_free(&mut self) -> Option<Ipv4Addr> {
        let size = Self::size();
        let static_band = 256;
        let dynamic = size - 2 - static_band;
        for step in 0..size - 2 {
            let offset = if step < dynamic {
                static_band + 1 + (self.cursor + step) % dynamic
            } else {
                1 + (step - dynamic)
            };
            if !self.used.contains(&offset) {
                if step < dynamic {
                    self.cursor = (self.cursor + step + 1) % dynamic;
                }
                return Some(Ipv4Addr::from(SERVICE_NETWORK + offset));
            }
        }
        None
    }

    /// Why an explicitly requested address cannot be had, if it cannot.
    fn refuse(&self, ip: Ipv4Addr) -> Option<String> {
        match Self::offset(ip) {
            None => Some(format!(
                "the provided IP ({ip}) is not in the valid range. The range of valid IPs is {SERVICE_CIDR}"
            )),
            Some(offset) if self.used.contains(&offset) => {
                Some("provided IP is already allocated".to_owned())
            }
            Some(_) => None,
        }
    }
}

/// Everything the service registry allocates.
#[derive(Debug, Clone)]
pub(crate) struct Allocators {
    /// Cluster IPs.
    pub(crate) cluster_ips: ClusterIps,
    /// Node ports (and health-check node ports).
    pub(crate) node_ports: NodePorts,
}

impl Allocators {
    /// Fresh allocators with the given node port range.
    pub(crate) fn new(node_port_range: std::ops::RangeInclusive<u16>) -> Self {
        Self {
            cluster_ips: ClusterIps::default(),
            node_ports: NodePorts::new(node_port_range),
        }
    }

    /// Marks everything a stored Service holds as used (when loading from disk).
    pub(crate) fn take_all(&mut self, service: &Value) {
        for ip in cluster_ips_of(service) {
            self.cluster_ips.take(ip);
        }
        for port in node_ports_of(service) {
            self.node_ports.take(port);
        }
    }

    /// Frees everything a Service holds (on delete).
    pub(crate) fn release_all(&mut self, service: &Value) {
        for ip in cluster_ips_of(service) {
            self.cluster_ips.release(ip);
        }
        for port in node_ports_of(service) {
            self.node_ports.release(port);
        }
    }

    /// Defaults and allocates a new Service in place. With `dry_run` nothing stays allocated.
    pub(crate) fn create(&mut self, service: &mut Value, dry_run: bool) -> Result<(), ApiError> {
        default_service(service, None)?;
        let plan = self.plan(service, None)?;
        plan.write_into(service);
        if !dry_run {
            self.commit(&plan, None);
        }
        Ok(())
    }

    /// Defaults and allocates an updated Service in place, keeping what the old one had where
    /// the new one leaves it out, and freeing what it no longer uses.
    pub(crate) fn update(
        &mut self,
        before: &Value,
        after: &mut Value,
        dry_run: bool,
    ) -> Result<(), ApiError> {
        keep_allocated_values(before, after);
        default_service(after, Some(before))?;
        let plan = self.plan(after, Some(before))?;
        plan.write_into(after);
        if !dry_run {
            self.commit(&plan, Some(before));
        }
        Ok(())
    }

    /// Works out the IPs and ports a Service gets, failing like the API server when an explicit
    /// one is taken or out of range. `before` holds what the Service already owns.
    fn plan(&mut self, service: &Value, before: Option<&Value>) -> Result<Plan, ApiError> {
        let name = service
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let invalid = |field: String, message: String| {
            ApiError::invalid(
                "Service",
                "",
                &name,
                &[Cause {
                    reason: "FieldValueInvalid",
                    message,
                    field,
                }],
            )
        };
        let owned_ips: Vec<Ipv4Addr> = before.map(cluster_ips_of).unwrap_or_default();
        let owned_ports: Vec<u16> = before.map(node_ports_of).unwrap_or_default();
        let spec = service.get("spec").cloned().unwrap_or_else(|| json!({}));
        let service_type = spec
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP");

        let mut plan = Plan::default();
        // Cluster IP.
        if needs_cluster_ip(&spec) {
            let requested: Vec<String> = spec
                .get("clusterIPs")
                .and_then(Value::as_array)
                .map(|ips| {
                    ips.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .filter(|ips: &Vec<String>| !ips.is_empty())
                .or_else(|| {
                    spec.get("clusterIP")
                        .and_then(Value::as_str)
                        .filter(|ip| !ip.is_empty())
                        .map(|ip| vec![ip.to_owned()])
                })
                .unwrap_or_default();
            let shown = format!(
                "[]string{{{}}}",
                requested
                    .iter()
                    .map(|ip| format!("{ip:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            match requested.first() {
                None => {
                    let ip = self.cluster_ips.next_free().ok_or_else(|| {
                        ApiError::internal(
                            "failed to allocate a serviceIP: range is full".to_owned(),
                        )
                    })?;
                    plan.cluster_ip = Some(ip);
                }
                Some(text) => {
                    let ip: Ipv4Addr = text.parse().map_err(|_| {
                        invalid(
                            "spec.clusterIPs[0]".to_owned(),
                            format!("Invalid value: {text:?}: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
                        )
                    })?;
                    if !owned_ips.contains(&ip)
                        && let Some(why) = self.cluster_ips.refuse(ip)
                    {
                        return Err(invalid(
                            "spec.clusterIPs".to_owned(),
                            format!("Invalid value: {shown}: failed to allocate IP {ip}: {why}"),
                        ));
                    }
                    if let Some(old) = owned_ips.first()
                        && *old != ip
                    {
                        return Err(invalid(
                            "spec.clusterIPs[0]".to_owned(),
                            format!("Invalid value: {shown}: may not change once set"),
                        ));
                    }
                    plan.cluster_ip = Some(ip);
                }
            }
        }

        // Node ports.
        let ports = spec
            .get("ports")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let wants_node_ports = needs_node_ports(&spec);
        let mut chosen: Vec<(usize, u16, String)> = Vec::new();
        let mut taken_here: BTreeSet<u16> = BTreeSet::new();
        let mut pending: Vec<usize> = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            let node_port = port.get("nodePort").and_then(Value::as_u64).unwrap_or(0);
            let protocol = port
                .get("protocol")
                .and_then(Value::as_str)
                .unwrap_or("TCP")
                .to_owned();
            if node_port == 0 {
                if wants_node_ports {
                    pending.push(i);
                }
                continue;
            }
            if !wants_node_ports && matches!(service_type, "ClusterIP" | "ExternalName") {
                return Err(ApiError::invalid(
                    "Service",
                    "",
                    &name,
                    &[Cause {
                        reason: "FieldValueForbidden",
                        message: format!(
                            "Forbidden: may not be used when `type` is '{service_type}'"
                        ),
                        field: format!("spec.ports[{i}].nodePort"),
                    }],
                ));
            }
            let node_port = u16::try_from(node_port).unwrap_or(0);
            let field = format!("spec.ports[{i}].nodePort");
            if chosen
                .iter()
                .any(|(_, p, proto)| *p == node_port && *proto == protocol)
            {
                return Err(ApiError::invalid(
                    "Service",
                    "",
                    &name,
                    &[Cause {
                        reason: "FieldValueDuplicate",
                        message: format!("Duplicate value: {node_port}"),
                        field,
                    }],
                ));
            }
            let ours = owned_ports.contains(&node_port) || taken_here.contains(&node_port);
            if !ours {
                if !self.node_ports.in_range(node_port) {
                    return Err(invalid(
                        field,
                        format!(
                            "Invalid value: {node_port}: provided port is not in the valid range. The range of valid ports is {}",
                            self.node_ports.range_text()
                        ),
                    ));
                }
                if self.node_ports.is_used(node_port) {
                    return Err(invalid(
                        field,
                        format!("Invalid value: {node_port}: provided port is already allocated"),
                    ));
                }
            }
            taken_here.insert(node_port);
            chosen.push((i, node_port, protocol));
        }
        let mut scratch = self.node_ports.clone();
        for port in &taken_here {
            scratch.take(*port);
        }
        for i in pending {
            let port = scratch.next_free().ok_or_else(|| {
                ApiError::internal("failed to allocate a nodePort: range is full".to_owned())
            })?;
            scratch.take(port);
            chosen.push((i, port, String::new()));
        }
        plan.node_ports = chosen.into_iter().map(|(i, p, _)| (i, p)).collect();

        // Health-check node port.
        if needs_health_check_node_port(&spec) {
            let requested = spec
                .get("healthCheckNodePort")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let port = if requested == 0 {
                scratch.next_free().ok_or_else(|| {
                    ApiError::internal(
                        "failed to allocate a healthCheckNodePort: range is full".to_owned(),
                    )
                })?
            } else {
                let port = u16::try_from(requested).unwrap_or(0);
                let ours = owned_ports.contains(&port);
                if !ours && (!self.node_ports.in_range(port) || scratch.is_used(port)) {
                    let why = if self.node_ports.in_range(port) {
                        "provided port is already allocated".to_owned()
                    } else {
                        format!(
                            "provided port is not in the valid range. The range of valid ports is {}",
                            self.node_ports.range_text()
                        )
                    };
                    return Err(invalid(
                        "spec.healthCheckNodePort".to_owned(),
                        format!(
                            "Invalid value: {port}: failed to allocate requested HealthCheck NodePort {port}: {why}"
                        ),
                    ));
                }
                port
            };
            plan.health_check_node_port = Some(port);
        }
        Ok(plan)
    }

    fn commit(&mut self, plan: &Plan, before: Option<&Value>) {
        if let Some(before) = before {
            self.release_all(before);
        }
        if let Some(ip) = plan.cluster_ip {
            self.cluster_ips.take(ip);
        }
        for (_, port) in &plan.node_ports {
            self.node_ports.take(*port);
        }
        if let Some(port) = plan.health_check_node_port {
            self.node_ports.take(port);
        }
    }
}

/// What one Service gets.
#[derive(Debug, Default, Clone, PartialEq)]
struct Plan {
    cluster_ip: Option<Ipv4Addr>,
    node_ports: Vec<(usize, u16)>,
    health_check_node_port: Option<u16>,
}

impl Plan {
    fn write_into(&self, service: &mut Value) {
        let Some(spec) = service.get_mut("spec").and_then(Value::as_object_mut) else {
            return;
        };
        if let Some(ip) = self.cluster_ip {
            spec.insert("clusterIP".into(), ip.to_string().into());
            spec.insert("clusterIPs".into(), json!([ip.to_string()]));
        }
        if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
            for (i, port) in &self.node_ports {
                if let Some(entry) = ports.get_mut(*i).and_then(Value::as_object_mut) {
                    entry.insert("nodePort".into(), (*port).into());
                }
            }
        }
        if let Some(port) = self.health_check_node_port {
            spec.insert("healthCheckNodePort".into(), port.into());
        }
    }
}

fn spec_str<'a>(spec: &'a Value, field: &str) -> Option<&'a str> {
    spec.get(field).and_then(Value::as_str)
}

fn needs_cluster_ip(spec: &Value) -> bool {
    spec_str(spec, "type") != Some("ExternalName") && spec_str(spec, "clusterIP") != Some("None")
}

fn needs_node_ports(spec: &Value) -> bool {
    match spec_str(spec, "type") {
        Some("NodePort") => true,
        Some("LoadBalancer") => spec
            .get("allocateLoadBalancerNodePorts")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        _ => false,
    }
}

fn needs_health_check_node_port(spec: &Value) -> bool {
    spec_str(spec, "type") == Some("LoadBalancer")
        && spec_str(spec, "externalTrafficPolicy") == Some("Local")
}

/// The cluster IPs a stored Service holds.
fn cluster_ips_of(service: &Value) -> Vec<Ipv4Addr> {
    let spec = service.get("spec").cloned().unwrap_or(Value::Null);
    if !needs_cluster_ip(&spec) {
        return Vec::new();
    }
    spec.get("clusterIPs")
        .and_then(Value::as_array)
        .map(|ips| {
            ips.iter()
                .filter_map(Value::as_str)
                .filter_map(|ip| ip.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The node ports (including the health-check one) a stored Service holds.
fn node_ports_of(service: &Value) -> Vec<u16> {
    let Some(spec) = service.get("spec") else {
        return Vec::new();
    };
    let mut ports: Vec<u16> = spec
        .get("ports")
        .and_then(Value::as_array)
        .map(|ports| {
            ports
                .iter()
                .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
                .filter_map(|p| u16::try_from(p).ok())
                .filter(|p| *p != 0)
                .collect()
        })
        .unwrap_or_default();
    if let Some(port) = spec
        .get("healthCheckNodePort")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
    {
        ports.push(port);
    }
    ports
}

/// Carries allocated values over from the old Service where an update leaves them out, as the
/// API server does, so a PUT without `clusterIP` or `nodePort` keeps them.
fn keep_allocated_values(before: &Value, after: &mut Value) {
    let (Some(old_spec), Some(new_spec)) = (
        before.get("spec").cloned(),
        after.get_mut("spec").and_then(Value::as_object_mut),
    ) else {
        return;
    };
    let new_spec_value = Value::Object(new_spec.clone());
    if needs_cluster_ip(&old_spec) && needs_cluster_ip(&new_spec_value) {
        let missing = spec_str(&new_spec_value, "clusterIP").is_none_or(str::is_empty);
        if missing {
            if let Some(ip) = old_spec.get("clusterIP") {
                new_spec.insert("clusterIP".into(), ip.clone());
            }
            if let Some(ips) = old_spec.get("clusterIPs") {
                new_spec.insert("clusterIPs".into(), ips.clone());
            }
        }
    }
    if needs_node_ports(&old_spec) && needs_node_ports(&new_spec_value) {
        let old_ports = old_spec
            .get("ports")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(ports) = new_spec.get_mut("ports").and_then(Value::as_array_mut) {
            for port in ports.iter_mut() {
                if port.get("nodePort").and_then(Value::as_u64).unwrap_or(0) != 0 {
                    continue;
                }
                let number = port.get("port").cloned();
                let protocol = port
                    .get("protocol")
                    .and_then(Value::as_str)
                    .unwrap_or("TCP")
                    .to_owned();
                let matching = old_ports.iter().find(|old| {
                    old.get("port") == number.as_ref()
                        && old.get("protocol").and_then(Value::as_str).unwrap_or("TCP") == protocol
                });
                if let (Some(old), Some(entry)) = (matching, port.as_object_mut())
                    && let Some(node_port) = old.get("nodePort")
                {
                    entry.insert("nodePort".into(), node_port.clone());
                }
            }
        }
    }
    if needs_health_check_node_port(&old_spec) && needs_health_check_node_port(&new_spec_value) {
        let missing = new_spec
            .get("healthCheckNodePort")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            == 0;
        if missing && let Some(port) = old_spec.get("healthCheckNodePort") {
            new_spec.insert("healthCheckNodePort".into(), port.clone());
        }
    }
}

/// The Service defaults the API server applies while decoding (and so records in managed
/// fields): session affinity, type, port protocols and target ports, traffic policies.
pub(crate) fn defaults(service: &mut Value) -> Result<(), ApiError> {
    let Some(object) = service.as_object_mut() else {
        return Ok(());
    };
    let spec = object.entry("spec").or_insert_with(|| json!({}));
    let Some(spec) = spec.as_object_mut() else {
        return Err(ApiError::bad_request("spec must be an object"));
    };
    let service_type = spec
        .entry("type")
        .or_insert_with(|| "ClusterIP".into())
        .as_str()
        .unwrap_or("ClusterIP")
        .to_owned();
    spec.entry("sessionAffinity")
        .or_insert_with(|| "None".into());
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            port.entry("protocol").or_insert_with(|| "TCP".into());
            if !port.contains_key("targetPort")
                && let Some(number) = port.get("port").cloned()
            {
                port.insert("targetPort".into(), number);
            }
        }
    }
    if matches!(service_type.as_str(), "NodePort" | "LoadBalancer") {
        spec.entry("externalTrafficPolicy")
            .or_insert_with(|| "Cluster".into());
    }
    if service_type == "LoadBalancer" {
        spec.entry("allocateLoadBalancerNodePorts")
            .or_insert_with(|| true.into());
    }
    if service_type != "ExternalName" {
        spec.entry("internalTrafficPolicy")
            .or_insert_with(|| "Cluster".into());
    }
    Ok(())
}

/// Applies the API server's Service defaults and IP family choices for a single-stack IPv4
/// cluster.
fn default_service(service: &mut Value, before: Option<&Value>) -> Result<(), ApiError> {
    defaults(service)?;
    let name = service
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(spec) = service.get_mut("spec").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    if spec.get("type").and_then(Value::as_str) == Some("ExternalName") {
        return Ok(());
    }
    let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
    if headless {
        spec.insert("clusterIPs".into(), json!(["None"]));
    }
    let selectorless = spec
        .get("selector")
        .and_then(Value::as_object)
        .is_none_or(serde_json::Map::is_empty);
    if !spec.contains_key("ipFamilyPolicy") {
        let inherited = before
            .and_then(|b| b.pointer("/spec/ipFamilyPolicy"))
            .cloned();
        let policy = match inherited {
            Some(policy) => policy,
            None if headless && selectorless => "RequireDualStack".into(),
            None => "SingleStack".into(),
        };
        spec.insert("ipFamilyPolicy".into(), policy);
    }
    let policy = spec
        .get("ipFamilyPolicy")
        .and_then(Value::as_str)
        .unwrap_or("SingleStack")
        .to_owned();
    let mut families: Vec<String> = spec
        .get("ipFamilies")
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if headless && selectorless {
        // Headless, selectorless Services may name families the cluster lacks.
        if families.is_empty() {
            families.push("IPv4".to_owned());
        }
        if families.len() < 2 && policy != "SingleStack" {
            let other = if families[0] == "IPv4" {
                "IPv6"
            } else {
                "IPv4"
            };
            families.push(other.to_owned());
        }
        spec.insert("ipFamilies".into(), json!(families));
        return Ok(());
    }
    let mut causes = Vec::new();
    if policy == "RequireDualStack" {
        causes.push(Cause {
            reason: "FieldValueInvalid",
            message: "Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services".to_owned(),
            field: "spec.ipFamilyPolicy".to_owned(),
        });
    }
    for (i, family) in families.iter().enumerate() {
        if family != "IPv4" {
            causes.push(Cause {
                reason: "FieldValueInvalid",
                message: format!("Invalid value: {family:?}: not configured on this cluster"),
                field: format!("spec.ipFamilies[{i}]"),
            });
        }
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid("Service", "", &name, &causes));
    }
    if families.is_empty() {
        spec.insert("ipFamilies".into(), json!(["IPv4"]));
    }
    Ok(())
}

/// The status a new Service starts with.
pub(crate) fn initial_status() -> Value {
    json!({"loadBalancer": {}})
}

#[cfg(test)]
mod tests;
