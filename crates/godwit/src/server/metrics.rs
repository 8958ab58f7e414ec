//! `/healthz` and `/metrics` (Prometheus / OpenMetrics text): counters of backups and restores
//! by final phase, of items backed up and restored, and histograms of their durations.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::Context;

/// The label of the per-phase counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    phase: String,
}

/// The server's metrics and the registry that renders them.
pub(crate) struct Metrics {
    registry: Registry,
    backup_items: Counter,
    restore_items: Counter,
    backups: Family<PhaseLabels, Counter>,
    restores: Family<PhaseLabels, Counter>,
    backup_duration: Histogram,
    restore_duration: Histogram,
}

/// Durations from one second to about nine hours.
fn duration_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(1.0, 2.0, 16)
}

impl Metrics {
    /// Registers every metric at zero.
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let backup_items = Counter::default();
        let restore_items = Counter::default();
        let backups = Family::<PhaseLabels, Counter>::default();
        let restores = Family::<PhaseLabels, Counter>::default();
        let backup_duration = Histogram::new(duration_buckets());
        let restore_duration = Histogram::new(duration_buckets());
        // The text encoder appends `_total` to counters: these become `godwit_backup_items_total`
        // and `godwit_backup_total`.
        registry.register(
            "godwit_backup_items",
            "Items written to backups",
            backup_items.clone(),
        );
        registry.register(
            "godwit_restore_items",
            "Items handled by restores (created, updated, skipped or failed)",
            restore_items.clone(),
        );
        registry.register(
            "godwit_backup",
            "Backups that ended, by phase",
            backups.clone(),
        );
        registry.register(
            "godwit_restore",
            "Restores that ended, by phase",
            restores.clone(),
        );
        registry.register(
            "godwit_backup_duration_seconds",
            "How long backups ran",
            backup_duration.clone(),
        );
        registry.register(
            "godwit_restore_duration_seconds",
            "How long restores ran",
            restore_duration.clone(),
        );
        Metrics {
            registry,
            backup_items,
            restore_items,
            backups,
            restores,
            backup_duration,
            restore_duration,
        }
    }

    /// Counts a backup that ended in `phase`, with its run time when it ran.
    pub(crate) fn backup_finished(&self, phase: &str, duration: Option<Duration>) {
        self.backups
            .get_or_create(&PhaseLabels {
                phase: phase.to_owned(),
            })
            .inc();
        if let Some(duration) = duration {
            self.backup_duration.observe(duration.as_secs_f64());
        }
    }

    /// Counts a restore that ended in `phase`, with its run time when it ran.
    pub(crate) fn restore_finished(&self, phase: &str, duration: Option<Duration>) {
        self.restores
            .get_or_create(&PhaseLabels {
                phase: phase.to_owned(),
            })
            .inc();
        if let Some(duration) = duration {
            self.restore_duration.observe(duration.as_secs_f64());
        }
    }

    /// Adds items written by a backup.
    pub(crate) fn backup_items(&self, items: u64) {
        self.backup_items.inc_by(items);
    }

    /// Adds items handled by a restore.
    pub(crate) fn restore_items(&self, items: u64) {
        self.restore_items.inc_by(items);
    }

    /// The metrics in the OpenMetrics text format.
    pub(crate) fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// The router of `/healthz` and `/metrics`.
pub(crate) fn router(context: Arc<Context>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(render_metrics))
        .with_state(context)
}

async fn render_metrics(State(context): State<Arc<Context>>) -> axum::response::Response {
    match context.metrics.render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot render the metrics",
        )
            .into_response(),
    }
}

/// Serves the router on an already bound listener until the process ends.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    context: Arc<Context>,
) -> anyhow::Result<()> {
    axum::serve(listener, router(context))
        .await
        .map_err(|err| anyhow::anyhow!("the metrics server stopped: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_with_their_names() {
        let metrics = Metrics::new();
        metrics.backup_items(7);
        metrics.restore_items(3);
        metrics.backup_finished("Completed", Some(Duration::from_millis(1500)));
        metrics.restore_finished("FailedValidation", None);
        let text = metrics.render().unwrap();
        for expected in [
            "godwit_backup_items_total 7",
            "godwit_restore_items_total 3",
            "godwit_backup_total{phase=\"Completed\"} 1",
            "godwit_restore_total{phase=\"FailedValidation\"} 1",
            "godwit_backup_duration_seconds_count 1",
            "godwit_restore_duration_seconds_count 0",
        ] {
            assert!(text.contains(expected), "{expected} missing from\n{text}");
        }
    }
}
