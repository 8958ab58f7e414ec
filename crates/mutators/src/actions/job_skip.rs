//! Skips Jobs that finished in the source (`status.completionTime` set): restoring one would
//! run it again.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::get_str;
use crate::{Outcome, RestoreContext};

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "batch", "jobs")
}

pub(crate) fn apply(_: &mut Value, item: &Item<'_>, _: &RestoreContext) -> Outcome {
    match get_str(item.backed_up, &["status", "completionTime"]) {
        Some(time) if !time.is_empty() => Outcome::skip(format!(
            "the job is finished (status.completionTime {time})"
        )),
        _ => Outcome::default(),
    }
}
