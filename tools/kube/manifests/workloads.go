package manifests

import (
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// Workload is an object that runs pods, and their template.
type Workload struct {
	Object
	Template *corev1.PodTemplateSpec
}

// Workloads are the Deployments, StatefulSets and Jobs among objects.
func Workloads(objects []Object) []Workload {
	var ws []Workload
	for _, o := range objects {
		var t *corev1.PodTemplateSpec
		switch v := o.Value.(type) {
		case *appsv1.Deployment:
			t = &v.Spec.Template
		case *appsv1.StatefulSet:
			t = &v.Spec.Template
		case *batchv1.Job:
			t = &v.Spec.Template
		default:
			continue
		}
		ws = append(ws, Workload{Object: o, Template: t})
	}
	return ws
}

// ImageName is an image reference without its tag or digest:
// "gantry/api" for gantry/api:latest and for gantry/api@sha256:....
func ImageName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// Images are the names of every image the workloads run, sorted, once.
func Images(objects []Object) []string {
	var names []string
	for _, w := range Workloads(objects) {
		for _, c := range slices.Concat(w.Template.Spec.InitContainers, w.Template.Spec.Containers) {
			names = append(names, ImageName(c.Image))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
