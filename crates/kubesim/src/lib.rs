//! A simulated Kubernetes API server for end-to-end tests and demos.
