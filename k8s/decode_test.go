package k8s_test

// The loader: every document of every *.yaml file here, decoded strictly
// into the Kubernetes API type its kind names. manifests_test.go checks what
// the objects promise.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// kustomization is the part of kustomize's file used here; strict decoding
// refuses any other field, so a new one has to be added here on purpose.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
}

// manifests is every object of every *.yaml file in this directory, by name.
type manifests struct {
	deployments   map[string]*appsv1.Deployment
	services      map[string]*corev1.Service
	secrets       map[string]*corev1.Secret
	configMaps    map[string]*corev1.ConfigMap
	pdbs          map[string]*policyv1.PodDisruptionBudget
	netpols       map[string]*networkingv1.NetworkPolicy
	kustomization *kustomization
	files         []string
}

// newObject returns the API type that apiVersion and kind name, or nil for
// one this directory is not expected to hold.
func newObject(apiVersion, kind string) any {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}
	case "v1 Service":
		return &corev1.Service{}
	case "v1 Secret":
		return &corev1.Secret{}
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	case "kustomize.config.k8s.io/v1beta1 Kustomization":
		return &kustomization{}
	}
	return nil
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

// loadManifests decodes every document strictly into its kind's API type:
// an unknown or misspelt field, a duplicate key or an unknown kind fails.
func loadManifests(t *testing.T) *manifests {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("unexpected number of manifests; got 0; want some *.yaml files")
	}
	m := &manifests{
		deployments: map[string]*appsv1.Deployment{},
		services:    map[string]*corev1.Service{},
		secrets:     map[string]*corev1.Secret{},
		configMaps:  map[string]*corev1.ConfigMap{},
		pdbs:        map[string]*policyv1.PodDisruptionBudget{},
		netpols:     map[string]*networkingv1.NetworkPolicy{},
		files:       files,
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range docSeparator.Split(string(src), -1) {
			where := fmt.Sprintf("%s, document %d", file, i+1)
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if tm == (metav1.TypeMeta{}) && len(bytes.TrimSpace(stripComments(doc))) == 0 {
				continue // an empty document
			}
			obj := newObject(tm.APIVersion, tm.Kind)
			if obj == nil {
				t.Fatalf("%s: unexpected kind; got %q %q; want one this test knows", where, tm.APIVersion, tm.Kind)
			}
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Fatalf("%s: strict decoding into %T: %v", where, obj, err)
			}
			if err := m.add(obj); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		}
	}
	return m
}

func stripComments(doc string) []byte {
	var b bytes.Buffer
	for line := range strings.Lines(doc) {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
		}
	}
	return b.Bytes()
}

func (m *manifests) add(obj any) error {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return addNamed(m.deployments, o.Name, o)
	case *corev1.Service:
		return addNamed(m.services, o.Name, o)
	case *corev1.Secret:
		return addNamed(m.secrets, o.Name, o)
	case *corev1.ConfigMap:
		return addNamed(m.configMaps, o.Name, o)
	case *policyv1.PodDisruptionBudget:
		return addNamed(m.pdbs, o.Name, o)
	case *networkingv1.NetworkPolicy:
		return addNamed(m.netpols, o.Name, o)
	case *kustomization:
		if m.kustomization != nil {
			return fmt.Errorf("unexpected second Kustomization")
		}
		m.kustomization = o
	}
	return nil
}

// addNamed keeps o under its name, refusing a second object of the same kind
// and name (the later one would silently win in a cluster).
func addNamed[T any](m map[string]T, name string, o T) error {
	if name == "" {
		return fmt.Errorf("unexpected metadata.name of %T; got none; want one", o)
	}
	if _, dup := m[name]; dup {
		return fmt.Errorf("unexpected duplicate %T %q", o, name)
	}
	m[name] = o
	return nil
}

// TestStrictDecodingRejectsMisspeltFields proves that the loader's strictness
// is real: each typo below is dropped without a word by the lenient decoder.
func TestStrictDecodingRejectsMisspeltFields(t *testing.T) {
	const good = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  replicas: 1
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      terminationGracePeriodSeconds: 45
      containers:
        - name: x
          image: x
          readinessProbe: {httpGet: {path: /-/readyz, port: http}}
`
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict([]byte(good), &d); err != nil {
		t.Fatalf("unexpected error for a correct Deployment: %v", err)
	}
	if got, want := len(d.Spec.Template.Spec.Containers), 1; got != want {
		t.Fatalf("unexpected containers; got %v; want %v", got, want)
	}
	f := func(from, to, field string) {
		t.Helper()
		bad := strings.Replace(good, from, to, 1)
		if bad == good {
			t.Fatalf("%q is not in the document", from)
		}
		// The lenient decoder takes it, dropping the field (or keeping the
		// last duplicate): that is what a typo costs without strictness.
		var lenient appsv1.Deployment
		if err := yaml.Unmarshal([]byte(bad), &lenient); err != nil {
			t.Fatalf("unexpected lenient error for %s: %v", to, err)
		}
		var strict appsv1.Deployment
		err := yaml.UnmarshalStrict([]byte(bad), &strict)
		if err == nil {
			t.Fatalf("unexpected success; got no error for %q; want one", to)
		}
		if !strings.Contains(err.Error(), `"`+field+`"`) {
			t.Fatalf("unexpected error; got %v; want one naming %q", err, field)
		}
	}
	f("      containers:", "      contianers:", "contianers")
	f("  replicas: 1", "  replica: 1", "replica")
	f("terminationGracePeriodSeconds: 45", "terminationGracePeriod: 45", "terminationGracePeriod")
	f("{path: /-/readyz", "{paht: /-/readyz", "paht")
	f("  replicas: 1", "  replicas: 1\n  replicas: 2", "replicas") // a duplicate key
}

// TestManifestsDecodeStrictly loads the directory and checks that no kind
// went missing.
func TestManifestsDecodeStrictly(t *testing.T) {
	m := loadManifests(t)
	want := map[string]int{"Deployment": 2, "Service": 2, "Secret": 1, "ConfigMap": 1, "PodDisruptionBudget": 1}
	got := map[string]int{"Deployment": len(m.deployments), "Service": len(m.services), "Secret": len(m.secrets),
		"ConfigMap": len(m.configMaps), "PodDisruptionBudget": len(m.pdbs)}
	for kind, n := range want {
		if got[kind] < n {
			t.Fatalf("unexpected number of %s objects; got %v; want at least %v", kind, got[kind], n)
		}
	}
}
