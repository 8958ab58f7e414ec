//! What a Kubernetes cluster serves: groups, versions, preferred versions and resources.
