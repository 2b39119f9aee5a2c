package k8s_test

// The promises of the manifests (decode_test.go loads them): the Deployment's
// envFrom, probes, resources, security context and grace period, the
// selectors of the Service, the PDB and the NetworkPolicy, and Redis's URL.

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// selects tells whether sel picks pods labelled labels. Only matchLabels is
// used in these manifests; a matchExpressions makes it say no.
func selects(sel *metav1.LabelSelector, labels map[string]string) bool {
	if sel == nil || len(sel.MatchExpressions) > 0 {
		return false
	}
	return selectsLabels(sel.MatchLabels, labels)
}

// selectsLabels is a Service's selector: every pair must be on the pod, and
// an empty selector picks nothing here (it would pick every pod).
func selectsLabels(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// selected returns the Deployments whose pods match.
func (m *manifests) selected(match func(labels map[string]string) bool) []string {
	var out []string
	for name, d := range m.deployments {
		if match(d.Spec.Template.Labels) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// alilink returns the Deployment alilink, its container alilink and the
// ConfigMap the container reads.
func (m *manifests) alilink(t *testing.T) (*appsv1.Deployment, *corev1.Container, *corev1.ConfigMap) {
	t.Helper()
	d := m.deployments["alilink"]
	if d == nil {
		t.Fatalf("unexpected Deployments; got %v; want one named alilink", slices.Sorted(maps.Keys(m.deployments)))
	}
	var c *corev1.Container
	for i := range d.Spec.Template.Spec.Containers {
		if d.Spec.Template.Spec.Containers[i].Name == "alilink" {
			c = &d.Spec.Template.Spec.Containers[i]
		}
	}
	if c == nil {
		t.Fatalf("unexpected containers in Deployment alilink; got none named alilink; want one")
	}
	var cm *corev1.ConfigMap
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			cm = m.configMaps[ef.ConfigMapRef.Name]
		}
	}
	if cm == nil {
		t.Fatalf("unexpected envFrom; got %+v; want a configMapRef to a ConfigMap in this directory", c.EnvFrom)
	}
	return d, c, cm
}

// setting returns the ConfigMap's value for a variable, or def.
func setting(cm *corev1.ConfigMap, key, def string) string {
	if v, ok := cm.Data[key]; ok {
		return v
	}
	return def
}

func TestDeployment(t *testing.T) {
	m := loadManifests(t)
	d, c, cm := m.alilink(t)
	pod := &d.Spec.Template.Spec

	t.Run("replicas", func(t *testing.T) {
		if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
			t.Fatalf("unexpected replicas; got %v; want at least 2", fmtPtr(d.Spec.Replicas))
		}
		if !selects(d.Spec.Selector, d.Spec.Template.Labels) {
			t.Fatalf("unexpected selector; got %v; want one matching the pod labels %v", d.Spec.Selector, d.Spec.Template.Labels)
		}
		if _, ok := cm.Data["ALILINK_REDIS_URL"]; !ok {
			t.Fatalf("unexpected ConfigMap; got no ALILINK_REDIS_URL; want one: replicas must share the token")
		}
	})

	t.Run("envFrom", func(t *testing.T) {
		var secrets, configMaps []string
		for _, ef := range c.EnvFrom {
			switch {
			case ef.SecretRef != nil:
				secrets = append(secrets, ef.SecretRef.Name)
				if m.secrets[ef.SecretRef.Name] == nil {
					t.Fatalf("unexpected secretRef; got %q; want a Secret in this directory %v",
						ef.SecretRef.Name, slices.Sorted(maps.Keys(m.secrets)))
				}
				if ef.SecretRef.Optional != nil && *ef.SecretRef.Optional {
					t.Fatalf("unexpected optional secretRef; got optional; want required")
				}
			case ef.ConfigMapRef != nil:
				configMaps = append(configMaps, ef.ConfigMapRef.Name)
			}
		}
		if want := []string{"alilink-secrets"}; !slices.Equal(secrets, want) {
			t.Fatalf("unexpected secretRefs; got %v; want %v", secrets, want)
		}
		if want := []string{"alilink-config"}; !slices.Equal(configMaps, want) {
			t.Fatalf("unexpected configMapRefs; got %v; want %v", configMaps, want)
		}
	})

	t.Run("port and probes", func(t *testing.T) {
		var port *corev1.ContainerPort
		for i := range c.Ports {
			if c.Ports[i].Name == "http" {
				port = &c.Ports[i]
			}
		}
		if port == nil {
			t.Fatalf("unexpected ports; got %+v; want one named http", c.Ports)
		}
		_, listenPort, err := net.SplitHostPort(setting(cm, "ALILINK_LISTEN", ""))
		if err != nil {
			t.Fatalf("unexpected ALILINK_LISTEN: %v", err)
		}
		if got, want := fmt.Sprint(port.ContainerPort), listenPort; got != want {
			t.Fatalf("unexpected containerPort; got %v; want %v (ALILINK_LISTEN)", got, want)
		}
		f := func(name string, p *corev1.Probe, path string) {
			t.Helper()
			if p == nil || p.HTTPGet == nil {
				t.Fatalf("unexpected %s probe; got %+v; want an httpGet", name, p)
			}
			if p.HTTPGet.Path != path {
				t.Fatalf("unexpected %s path; got %v; want %v", name, p.HTTPGet.Path, path)
			}
			if got := p.HTTPGet.Port.String(); got != port.Name {
				t.Fatalf("unexpected %s port; got %v; want the named port %v", name, got, port.Name)
			}
		}
		f("liveness", c.LivenessProbe, "/-/healthz")
		f("readiness", c.ReadinessProbe, "/-/readyz")
		// /-/readyz checks the token within ALILINK_READY_TIMEOUT; a probe
		// giving up first would mark a healthy pod unready.
		ready, err := time.ParseDuration(setting(cm, "ALILINK_READY_TIMEOUT", "5s"))
		if err != nil {
			t.Fatalf("unexpected ALILINK_READY_TIMEOUT: %v", err)
		}
		if got := time.Duration(c.ReadinessProbe.TimeoutSeconds) * time.Second; got <= ready {
			t.Fatalf("unexpected readiness timeoutSeconds; got %v; want more than ALILINK_READY_TIMEOUT %v", got, ready)
		}
	})

	t.Run("state dir", func(t *testing.T) {
		dir := setting(cm, "ALILINK_STATE_DIR", "")
		if dir == "" {
			t.Fatalf("unexpected ALILINK_STATE_DIR; got none; want the mounted volume's path")
		}
		var mount *corev1.VolumeMount
		for i := range c.VolumeMounts {
			if c.VolumeMounts[i].MountPath == dir {
				mount = &c.VolumeMounts[i]
			}
		}
		if mount == nil || mount.ReadOnly {
			t.Fatalf("unexpected volumeMounts; got %+v; want a writable one at %v", c.VolumeMounts, dir)
		}
		for _, v := range pod.Volumes {
			if v.Name == mount.Name {
				if v.EmptyDir == nil && v.PersistentVolumeClaim == nil {
					t.Fatalf("unexpected state volume; got %+v; want an emptyDir or a PVC", v.VolumeSource)
				}
				return
			}
		}
		t.Fatalf("unexpected volumes; got none named %v; want one", mount.Name)
	})

	t.Run("grace period", func(t *testing.T) {
		shutdown, err := time.ParseDuration(setting(cm, "ALILINK_SHUTDOWN_TIMEOUT", "30s"))
		if err != nil {
			t.Fatalf("unexpected ALILINK_SHUTDOWN_TIMEOUT: %v", err)
		}
		drain, err := time.ParseDuration(setting(cm, "ALILINK_DRAIN_DELAY", "0s"))
		if err != nil {
			t.Fatalf("unexpected ALILINK_DRAIN_DELAY: %v", err)
		}
		// SIGTERM, then the drain delay, then up to the shutdown timeout for streams.
		g := pod.TerminationGracePeriodSeconds
		if g == nil || time.Duration(*g)*time.Second <= drain+shutdown {
			t.Fatalf("unexpected terminationGracePeriodSeconds; got %v; want more than ALILINK_DRAIN_DELAY + ALILINK_SHUTDOWN_TIMEOUT %v", fmtPtr(g), drain+shutdown)
		}
	})

	t.Run("listen needs a sign secret", func(t *testing.T) {
		host, _, _ := net.SplitHostPort(setting(cm, "ALILINK_LISTEN", ""))
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			t.Fatalf("unexpected ALILINK_LISTEN host; got %v; want one reachable from the Service", host)
		}
		if setting(cm, "ALILINK_PUBLIC", "false") == "true" {
			return
		}
		s := m.secrets["alilink-secrets"]
		if _, ok := s.StringData["ALILINK_SIGN_SECRET"]; !ok {
			if _, ok := s.Data["ALILINK_SIGN_SECRET"]; !ok {
				t.Fatalf("unexpected Secret keys; got no ALILINK_SIGN_SECRET; want one (alilink refuses a non-loopback listen without it)")
			}
		}
	})

	t.Run("image user", func(t *testing.T) {
		want := dockerfileUID(t)
		if u := effectiveSecurity(pod, c).runAsUser; u == nil || *u != want {
			t.Fatalf("unexpected runAsUser; got %v; want %v (the Dockerfile's USER)", fmtPtr(u), want)
		}
		if c.Image == "" {
			t.Fatalf("unexpected image; got none; want one")
		}
	})
}

// dockerfileUID reads the numeric USER of ../Dockerfile's last stage.
func dockerfileUID(t *testing.T) int64 {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var user string
	for line := range strings.Lines(string(src)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "USER "); ok {
			user, _, _ = strings.Cut(strings.TrimSpace(rest), ":")
		}
	}
	var uid int64
	if _, err := fmt.Sscan(user, &uid); err != nil {
		t.Fatalf("unexpected Dockerfile USER; got %q; want a numeric uid", user)
	}
	return uid
}

// security is a container's effective settings: its own, else the pod's.
type security struct {
	runAsNonRoot, readOnlyRoot, privilegeEscalation *bool
	runAsUser                                       *int64
	seccomp                                         *corev1.SeccompProfile
	drop                                            []corev1.Capability
}

func effectiveSecurity(pod *corev1.PodSpec, c *corev1.Container) security {
	var s security
	if p := pod.SecurityContext; p != nil {
		s.runAsNonRoot, s.runAsUser, s.seccomp = p.RunAsNonRoot, p.RunAsUser, p.SeccompProfile
	}
	if k := c.SecurityContext; k != nil {
		s.readOnlyRoot, s.privilegeEscalation = k.ReadOnlyRootFilesystem, k.AllowPrivilegeEscalation
		if k.RunAsNonRoot != nil {
			s.runAsNonRoot = k.RunAsNonRoot
		}
		if k.RunAsUser != nil {
			s.runAsUser = k.RunAsUser
		}
		if k.SeccompProfile != nil {
			s.seccomp = k.SeccompProfile
		}
		if k.Capabilities != nil {
			s.drop = k.Capabilities.Drop
		}
	}
	return s
}

// TestContainersAreLockedDown holds every container of every Deployment,
// Redis's too, to the same rules.
func TestContainersAreLockedDown(t *testing.T) {
	m := loadManifests(t)
	for name, d := range m.deployments {
		pod := &d.Spec.Template.Spec
		for i := range pod.Containers {
			c := &pod.Containers[i]
			t.Run(name+"/"+c.Name, func(t *testing.T) {
				s := effectiveSecurity(pod, c)
				f := func(what string, got *bool, want bool) {
					t.Helper()
					if got == nil || *got != want {
						t.Fatalf("unexpected %s; got %v; want %v", what, fmtPtr(got), want)
					}
				}
				f("runAsNonRoot", s.runAsNonRoot, true)
				f("readOnlyRootFilesystem", s.readOnlyRoot, true)
				f("allowPrivilegeEscalation", s.privilegeEscalation, false)
				if s.runAsUser == nil || *s.runAsUser == 0 {
					t.Fatalf("unexpected runAsUser; got %v; want a non-zero uid", fmtPtr(s.runAsUser))
				}
				if !slices.Contains(s.drop, "ALL") {
					t.Fatalf("unexpected capabilities.drop; got %v; want ALL", s.drop)
				}
				if s.seccomp == nil || s.seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Fatalf("unexpected seccompProfile; got %+v; want %v", s.seccomp, corev1.SeccompProfileTypeRuntimeDefault)
				}
				r := c.Resources
				for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					req, okReq := r.Requests[res]
					lim, okLim := r.Limits[res]
					if !okReq || !okLim || req.IsZero() || lim.IsZero() {
						t.Fatalf("unexpected %s resources; got requests %v, limits %v; want both set", res, r.Requests, r.Limits)
					}
					if req.Cmp(lim) > 0 {
						t.Fatalf("unexpected %s request; got %v; want at most the limit %v", res, req.String(), lim.String())
					}
				}
			})
		}
	}
}

// fmtPtr prints what a pointer field holds, or "unset".
func fmtPtr[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

// TestSelectors checks that each Service, the PDB and each NetworkPolicy pick
// exactly the pods they are meant for, on ports those pods name.
func TestSelectors(t *testing.T) {
	m := loadManifests(t)
	d, _, _ := m.alilink(t)

	for name, s := range m.services {
		t.Run("Service "+name, func(t *testing.T) {
			if s.Spec.Type != "" && s.Spec.Type != corev1.ServiceTypeClusterIP {
				t.Fatalf("unexpected type; got %v; want %v", s.Spec.Type, corev1.ServiceTypeClusterIP)
			}
			sel := m.selected(func(l map[string]string) bool { return selectsLabels(s.Spec.Selector, l) })
			if len(sel) != 1 {
				t.Fatalf("unexpected Deployments selected by %v; got %v; want exactly one", s.Spec.Selector, sel)
			}
			target := m.deployments[sel[0]]
			for _, p := range s.Spec.Ports {
				tp := p.TargetPort.String()
				if !hasPortName(&target.Spec.Template.Spec, tp) {
					t.Fatalf("unexpected targetPort; got %v; want a port named in Deployment %v", tp, sel[0])
				}
			}
		})
	}
	if s := m.services["alilink"]; s == nil {
		t.Fatalf("unexpected Services; got %v; want one named alilink", slices.Sorted(maps.Keys(m.services)))
	} else if got, want := m.selected(func(l map[string]string) bool { return selectsLabels(s.Spec.Selector, l) }), []string{d.Name}; !slices.Equal(got, want) {
		t.Fatalf("unexpected Deployments behind Service alilink; got %v; want %v", got, want)
	}

	for name, p := range m.pdbs {
		t.Run("PodDisruptionBudget "+name, func(t *testing.T) {
			if got, want := m.selected(func(l map[string]string) bool { return selects(p.Spec.Selector, l) }), []string{d.Name}; !slices.Equal(got, want) {
				t.Fatalf("unexpected Deployments selected; got %v; want %v", got, want)
			}
			// A budget the Deployment can never satisfy blocks node drains.
			replicas := int(*d.Spec.Replicas)
			switch {
			case p.Spec.MinAvailable != nil && p.Spec.MaxUnavailable != nil:
				t.Fatalf("unexpected budget; got both minAvailable and maxUnavailable; want one")
			case p.Spec.MinAvailable != nil:
				if n := p.Spec.MinAvailable.IntValue(); p.Spec.MinAvailable.StrVal != "" || n < 1 || n >= replicas {
					t.Fatalf("unexpected minAvailable; got %v; want an integer in [1, %v)", p.Spec.MinAvailable, replicas)
				}
			case p.Spec.MaxUnavailable != nil:
				if n := p.Spec.MaxUnavailable.IntValue(); p.Spec.MaxUnavailable.StrVal != "" || n < 1 || n >= replicas {
					t.Fatalf("unexpected maxUnavailable; got %v; want an integer in [1, %v)", p.Spec.MaxUnavailable, replicas)
				}
			default:
				t.Fatalf("unexpected budget; got neither minAvailable nor maxUnavailable; want one")
			}
		})
	}
	if len(m.pdbs) == 0 {
		t.Fatalf("unexpected PodDisruptionBudgets; got none; want one for %v", d.Name)
	}

	for name, np := range m.netpols {
		t.Run("NetworkPolicy "+name, func(t *testing.T) {
			if got := m.selected(func(l map[string]string) bool { return selects(&np.Spec.PodSelector, l) }); len(got) != 1 {
				t.Fatalf("unexpected Deployments protected; got %v; want exactly one", got)
			}
			for _, in := range np.Spec.Ingress {
				for _, from := range in.From {
					if got := m.selected(func(l map[string]string) bool { return selects(from.PodSelector, l) }); len(got) == 0 {
						t.Fatalf("unexpected ingress podSelector; got %v selecting no Deployment; want one", from.PodSelector)
					}
				}
			}
		})
	}
}

func hasPortName(pod *corev1.PodSpec, name string) bool {
	for _, c := range pod.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

func TestRedisURLNamesTheRedisService(t *testing.T) {
	m := loadManifests(t)
	_, _, cm := m.alilink(t)
	raw := setting(cm, "ALILINK_REDIS_URL", "")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		t.Fatalf("unexpected ALILINK_REDIS_URL; got %q (%v); want redis://service:port/db", raw, err)
	}
	// A Service is reached as name, name.namespace or name.namespace.svc….
	name, _, _ := strings.Cut(u.Hostname(), ".")
	s := m.services[name]
	if s == nil {
		t.Fatalf("unexpected ALILINK_REDIS_URL host; got %v; want one of the Services %v", name, slices.Sorted(maps.Keys(m.services)))
	}
	port := u.Port()
	if port == "" {
		port = "6379"
	}
	var ports []string
	for _, p := range s.Spec.Ports {
		ports = append(ports, fmt.Sprint(p.Port))
	}
	if !slices.Contains(ports, port) {
		t.Fatalf("unexpected ALILINK_REDIS_URL port; got %v; want one of Service %v's %v", port, name, ports)
	}
	sel := m.selected(func(l map[string]string) bool { return selectsLabels(s.Spec.Selector, l) })
	if len(sel) != 1 || !strings.HasPrefix(m.deployments[sel[0]].Spec.Template.Spec.Containers[0].Image, "redis:") {
		t.Fatalf("unexpected Deployment behind Service %v; got %v; want one running redis", name, sel)
	}
}

// TestConfigMapHoldsNoSecrets keeps the secret variables in the Secret and
// every key in both named ALILINK_*, so that envFrom sets nothing else.
func TestConfigMapHoldsNoSecrets(t *testing.T) {
	m := loadManifests(t)
	secretKeys := []string{"ALILINK_REFRESH_TOKEN", "ALILINK_SIGN_SECRET", "ALILINK_ADMIN_TOKEN", "ALILINK_OPEN_CLIENT_SECRET"}
	for name, cm := range m.configMaps {
		for k := range cm.Data {
			if slices.Contains(secretKeys, k) {
				t.Fatalf("unexpected secret %v in ConfigMap %v; got it there; want it in a Secret", k, name)
			}
			if !strings.HasPrefix(k, "ALILINK_") {
				t.Fatalf("unexpected key in ConfigMap %v; got %v; want ALILINK_*", name, k)
			}
		}
	}
	for name, s := range m.secrets {
		for k := range s.StringData {
			if !strings.HasPrefix(k, "ALILINK_") {
				t.Fatalf("unexpected key in Secret %v; got %v; want ALILINK_*", name, k)
			}
		}
		if len(s.Data) > 0 {
			t.Fatalf("unexpected data in Secret %v; got %v keys; want stringData placeholders only", name, len(s.Data))
		}
	}
}

// TestKustomization lists every manifest but the Secret's example, which
// holds placeholders and must never be applied as it is.
func TestKustomization(t *testing.T) {
	m := loadManifests(t)
	k := m.kustomization
	if k == nil {
		t.Skip("no kustomization.yaml")
	}
	var want []string
	for _, f := range m.files {
		if f != "kustomization.yaml" && !strings.Contains(f, ".example.") {
			want = append(want, f)
		}
	}
	got := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(got, want) {
		t.Fatalf("unexpected kustomization resources; got %v; want %v", got, want)
	}
}
