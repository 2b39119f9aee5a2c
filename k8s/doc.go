// Package k8s holds the Kubernetes manifests (a kustomization of alilink,
// Redis and their policies) and the tests that decode them strictly and check
// what they promise.
package k8s
