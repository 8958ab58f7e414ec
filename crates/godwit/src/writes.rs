//! How the binary writes to clusters: always as field manager `godwit`
//! ([`godwit_restore::FIELD_MANAGER`]), so `managedFields` tell godwit's writes from everyone
//! else's.

use godwit_restore::FIELD_MANAGER;
use kube::api::{PatchParams, PostParams};

/// Create parameters with godwit's field manager.
pub fn post_params() -> PostParams {
    PostParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PostParams::default()
    }
}

/// Patch parameters with godwit's field manager.
pub fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    }
}
