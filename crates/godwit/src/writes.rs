//! How the binary talks to clusters: through clients with godwit's one retry policy
//! (`godwit-client`; kube's own retries off), and always writing as field manager `godwit`
//! ([`godwit_restore::FIELD_MANAGER`]), so `managedFields` tell godwit's writes from everyone
//! else's.

use godwit_restore::FIELD_MANAGER;
use kube::api::{PatchParams, PostParams};

/// A client for `config` with godwit's request policy.
pub fn client(config: kube::Config) -> Result<kube::Client, kube::Error> {
    godwit_client::client(
        config,
        godwit_client::RequestPolicy::default(),
        &godwit_client::Retries::default(),
    )
}

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
