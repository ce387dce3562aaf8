package manifests

import (
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The objects of each kustomization, held together: the migration and
// the order deploy/apply applies it in, what selects which pods, and the
// network policies.
func TestTheObjectsFitTogether(t *testing.T) {
	f := readFacts(t)
	checks := []struct {
		name  string
		check func(r *report, f facts, k rendered)
		only  string // a kustomization this check is for; "" for every one
	}{
		{"migrate with `api migrate up` in a Job of the API's image, applied before the Deployments", checkMigration, ""},
		{"select the pods they serve, budget and scale", checkSelection, ""},
		{"let only the notifier leave the cluster and only the services reach the database", checkNetworkPolicies, ""},
		{"run compose's database at the host compose/init-secrets puts in the URL", checkDevDatabase, "deploy/overlays/dev"},
		{"run a Deployment of every service oci/ builds an image of", checkEveryService, ""},
	}
	for _, k := range renderAll(t) {
		for _, ch := range checks {
			if ch.only != "" && ch.only != k.Path {
				continue
			}
			t.Run(k.Path+" objects "+ch.name, func(t *testing.T) {
				rep := &report{t: t}
				ch.check(rep, f, k)
				rep.done()
			})
		}
	}
}

// checkEveryService: a service added to oci/ (and compose) is deployed
// too, as a Deployment named gantry-SERVICE running its image.
func checkEveryService(r *report, f facts, k rendered) {
	for svc := range f.built {
		d, err := Find[appsv1.Deployment](k.Objects, "Deployment", "gantry-"+svc)
		if err != nil {
			r.errorf("services/%s has an image in oci/ but no Deployment gantry-%s in deploy/base", svc, svc)
			continue
		}
		if got, _ := service(d.Spec.Template.Spec.Containers[0].Image); got != svc {
			r.errorf("Deployment gantry-%s runs %s, not the %s image", svc, d.Spec.Template.Spec.Containers[0].Image, svc)
		}
	}
}

func selects(sel *metav1.LabelSelector, l map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(l))
}

// applySelector is the selector deploy/apply applies everything but the
// Deployments with, read from the script.
func applySelector(r *report, root string) labels.Selector {
	data, err := os.ReadFile(filepath.Join(root, "deploy", "apply"))
	if err != nil {
		r.t.Fatal(err)
	}
	m := regexp.MustCompile(`--selector='([^']+)'`).FindSubmatch(data)
	if m == nil {
		r.t.Fatal("deploy/apply: no --selector='...' to read the first phase's objects from")
	}
	sel, err := labels.Parse(string(m[1]))
	if err != nil {
		r.t.Fatalf("deploy/apply: %v", err)
	}
	return sel
}

func objectLabels(o Object) map[string]string {
	if m, ok := o.Value.(metav1.Object); ok {
		return m.GetLabels()
	}
	return nil
}

func checkMigration(r *report, f facts, k rendered) {
	var jobs []*batchv1.Job
	for _, o := range k.Objects {
		if j, ok := o.Value.(*batchv1.Job); ok {
			jobs = append(jobs, j)
		}
	}
	if len(jobs) != 1 {
		r.errorf("%d Jobs; want one, the migration", len(jobs))
		return
	}
	job := jobs[0]
	spec := job.Spec.Template.Spec
	if len(spec.Containers) != 1 || len(spec.InitContainers) > 0 {
		r.errorf("the migration Job has %d containers and %d init containers; want one container", len(spec.Containers), len(spec.InitContainers))
		return
	}
	c := spec.Containers[0]
	if svc, _ := service(c.Image); svc != "api" {
		r.errorf("the migration runs %s, not the api image", c.Image)
	}
	if want := f.compose["migrate"].Command; !slices.Equal(c.Args, want) {
		r.errorf("the migration runs %q; compose's migrate service runs %q", c.Args, want)
	}
	if spec.RestartPolicy != corev1.RestartPolicyNever {
		r.errorf("restartPolicy %s: Never, so that each failed try keeps its pod and log", spec.RestartPolicy)
	}
	if job.Spec.BackoffLimit == nil || job.Spec.ActiveDeadlineSeconds == nil {
		r.errorf("the migration needs a backoffLimit and an activeDeadlineSeconds: deploy/apply waits for it to end")
	}
	api, err := Find[appsv1.Deployment](k.Objects, "Deployment", "gantry-api")
	if err != nil {
		r.errorf("%v", err)
		return
	}
	if img := api.Spec.Template.Spec.Containers[0].Image; c.Image != img {
		r.errorf("the migration runs %s, the API %s: the schema must be the one the API's release expects", c.Image, img)
	}
	// deploy/apply's first phase: the Job and all it needs, no Deployment.
	first := applySelector(r, f.root)
	needs := map[string]bool{"ServiceAccount/" + spec.ServiceAccountName: true}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			needs["Secret/"+v.Secret.SecretName] = true
		}
	}
	for _, o := range k.Objects {
		in := first.Matches(labels.Set(objectLabels(o)))
		switch v := o.Value.(type) {
		case *appsv1.Deployment:
			if in {
				r.errorf("deploy/apply's first phase applies %s, before the migration has run", o.ID())
			}
		case *batchv1.Job, *appsv1.StatefulSet, *corev1.Namespace:
			if !in {
				r.errorf("deploy/apply's first phase leaves out %s, which the migration needs", o.ID())
			}
		case *networkingv1.NetworkPolicy:
			if selects(&v.Spec.PodSelector, job.Spec.Template.Labels) && !in {
				r.errorf("deploy/apply's first phase leaves out %s, which lets the migration's pod reach the database", o.ID())
			}
		default:
			if needs[o.ID()] && !in {
				r.errorf("deploy/apply's first phase leaves out %s, which the migration's pod mounts or runs as", o.ID())
			}
		}
	}
}

func checkSelection(r *report, f facts, k rendered) {
	deployments := map[string]*appsv1.Deployment{}
	for _, o := range k.Objects {
		if d, ok := o.Value.(*appsv1.Deployment); ok {
			deployments[o.Name] = d
			if !selects(d.Spec.Selector, d.Spec.Template.Labels) {
				r.errorf("%s: its selector does not match its pods' labels", o.ID())
			}
		}
	}
	// selected names the Deployments whose pods sel matches.
	selected := func(sel *metav1.LabelSelector) []string {
		var names []string
		for name, d := range deployments {
			if selects(sel, d.Spec.Template.Labels) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		return names
	}
	for _, o := range k.Objects {
		switch v := o.Value.(type) {
		case *corev1.Service:
			checkService(r, f, o, v, deployments, selected)
		case *policyv1.PodDisruptionBudget:
			if got := selected(v.Spec.Selector); !slices.Equal(got, []string{o.Name}) {
				r.errorf("%s selects the pods of %v; want those of Deployment %s", o.ID(), got, o.Name)
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			d, ok := deployments[v.Spec.ScaleTargetRef.Name]
			switch {
			case v.Spec.ScaleTargetRef.Kind != "Deployment" || !ok:
				r.errorf("%s scales %s %s, which is not here", o.ID(), v.Spec.ScaleTargetRef.Kind, v.Spec.ScaleTargetRef.Name)
			case v.Spec.MinReplicas == nil || d.Spec.Replicas == nil || *d.Spec.Replicas < *v.Spec.MinReplicas || *d.Spec.Replicas > v.Spec.MaxReplicas:
				r.errorf("%s: the Deployment's replicas must lie within minReplicas and maxReplicas, or every apply fights the autoscaler", o.ID())
			}
		}
	}
}

// checkService: a Service selects the pods of one workload and targets a
// port they declare; the API's Service, the API's port.
func checkService(r *report, f facts, o Object, s *corev1.Service, deployments map[string]*appsv1.Deployment, selected func(*metav1.LabelSelector) []string) {
	sel := &metav1.LabelSelector{MatchLabels: s.Spec.Selector}
	var pod *corev1.PodTemplateSpec
	if names := selected(sel); len(names) == 1 {
		pod = &deployments[names[0]].Spec.Template
	} else if names == nil {
		return // the dev database's, a StatefulSet: checkDevDatabase
	} else {
		r.errorf("%s selects the pods of %v; want one Deployment's", o.ID(), names)
		return
	}
	c := &pod.Spec.Containers[0]
	svc, _ := service(c.Image)
	for _, p := range s.Spec.Ports {
		n, ok := port(c, p.TargetPort)
		if !ok {
			r.errorf("%s: targetPort %s is no port of container %s", o.ID(), p.TargetPort.String(), c.Name)
			continue
		}
		if main, err := setting(c, "PORT", f.defaults.Port); err == nil && slices.Contains(f.ports[svc], "PORT") && n != main {
			r.errorf("%s: targetPort %s is %d; services/%s serves on PORT, %d (the admin port stays off the Service)", o.ID(), p.TargetPort.String(), n, svc, main)
		}
	}
}

// publicEgress is an ipBlock that opens the whole internet.
func publicEgress(b *networkingv1.IPBlock) bool {
	p, err := netip.ParsePrefix(b.CIDR)
	return err == nil && p.Bits() == 0
}

func checkNetworkPolicies(r *report, _ facts, k rendered) {
	var policies []*networkingv1.NetworkPolicy
	denyAll := false
	for _, o := range k.Objects {
		if p, ok := o.Value.(*networkingv1.NetworkPolicy); ok {
			policies = append(policies, p)
			s := p.Spec
			if len(s.PodSelector.MatchLabels)+len(s.PodSelector.MatchExpressions) == 0 && len(s.Ingress)+len(s.Egress) == 0 &&
				slices.Contains(s.PolicyTypes, networkingv1.PolicyTypeIngress) && slices.Contains(s.PolicyTypes, networkingv1.PolicyTypeEgress) {
				denyAll = true
			}
		}
	}
	if !denyAll {
		r.errorf("no policy denies all traffic of every pod (podSelector {}, both policy types, no rule): what no policy allows would be open")
	}
	for _, w := range Workloads(k.Objects) {
		component := w.Template.Labels["app.kubernetes.io/component"]
		for _, p := range policies {
			if !selects(&p.Spec.PodSelector, w.Template.Labels) {
				continue
			}
			for _, rule := range p.Spec.Egress {
				checkEgress(r, w, p.Name, component, rule)
			}
			if component == "database" {
				for _, rule := range p.Spec.Ingress {
					checkDatabaseIngress(r, k, w, p.Name, rule)
				}
			}
		}
	}
}

func checkEgress(r *report, w Workload, policy, component string, rule networkingv1.NetworkPolicyEgressRule) {
	if len(rule.To) == 0 {
		r.errorf("%s: policy %s lets it reach any address (an egress rule without to)", w.ID(), policy)
	}
	for _, peer := range rule.To {
		switch {
		case peer.IPBlock == nil:
		case publicEgress(peer.IPBlock) && component != "notifier":
			r.errorf("%s: policy %s lets it leave the cluster (%s); only the notifier may", w.ID(), policy, peer.IPBlock.CIDR)
		case !publicEgress(peer.IPBlock) && !onlyPort(rule.Ports, 5432):
			r.errorf("%s: policy %s opens %s beyond the database's port", w.ID(), policy, peer.IPBlock.CIDR)
		}
	}
}

// onlyPort reports whether ports name n and nothing else (no ports: all).
func onlyPort(ports []networkingv1.NetworkPolicyPort, n int32) bool {
	return len(ports) > 0 && !slices.ContainsFunc(ports, func(p networkingv1.NetworkPolicyPort) bool {
		return p.Port == nil || p.Port.IntVal != n || p.EndPort != nil
	})
}

// checkDatabaseIngress: only the API, the notifier and the migration reach
// the database's pods.
func checkDatabaseIngress(r *report, k rendered, db Workload, policy string, rule networkingv1.NetworkPolicyIngressRule) {
	allowed := []string{"api", "notifier", "migration"}
	if len(rule.From) == 0 {
		r.errorf("%s: policy %s lets anything reach the database", db.ID(), policy)
	}
	for _, peer := range rule.From {
		if peer.PodSelector == nil || peer.NamespaceSelector != nil || peer.IPBlock != nil {
			r.errorf("%s: policy %s lets pods of other namespaces or addresses reach the database; only this namespace's services may", db.ID(), policy)
			continue
		}
		for _, w := range Workloads(k.Objects) {
			if c := w.Template.Labels["app.kubernetes.io/component"]; selects(peer.PodSelector, w.Template.Labels) && !slices.Contains(allowed, c) {
				r.errorf("%s: policy %s lets %s reach the database", db.ID(), policy, w.ID())
			}
		}
	}
}

// checkDevDatabase: the URL compose/init-secrets writes (postgres://...
// @db:5432/gantry) reaches the StatefulSet's pods through a Service, and
// the StatefulSet runs compose's database image.
func checkDevDatabase(r *report, f facts, k rendered) {
	data, err := os.ReadFile(filepath.Join(k.Dir, "secrets", "database_url"))
	if err != nil {
		r.t.Fatal(err)
	}
	u, err := url.Parse(strings.TrimSpace(string(data)))
	if err != nil {
		r.t.Fatalf("compose/init-secrets wrote an unparsable URL: %v", err)
	}
	db, err := Find[appsv1.StatefulSet](k.Objects, "StatefulSet", "gantry-db")
	if err != nil {
		r.errorf("%v", err)
		return
	}
	svc, err := Find[corev1.Service](k.Objects, "Service", u.Hostname())
	if err != nil {
		r.errorf("the database URL's host is %s: %v", u.Hostname(), err)
		return
	}
	if !selects(&metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, db.Spec.Template.Labels) {
		r.errorf("Service %s does not select the database's pods", svc.Name)
	}
	i := slices.IndexFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return fmt.Sprint(p.Port) == u.Port() })
	if i < 0 {
		r.errorf("Service %s has no port %s, the URL's", svc.Name, u.Port())
	} else if n, ok := port(&db.Spec.Template.Spec.Containers[0], svc.Spec.Ports[i].TargetPort); !ok || n != 5432 {
		r.errorf("Service %s's port %s does not lead to PostgreSQL's 5432", svc.Name, u.Port())
	}
	if img, want := db.Spec.Template.Spec.Containers[0].Image, f.compose["db"].Image; img != want {
		r.errorf("the database runs %s; compose runs %s", img, want)
	}
}
