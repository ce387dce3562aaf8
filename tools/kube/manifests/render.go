// Package manifests renders the kustomizations under deploy/ as kubectl
// does (kustomize as a library, at the minor version kubectl embeds) and
// decodes every object strictly into its k8s.io/api type, so that a field
// the API server does not know, or one spelled in the wrong case, is an
// error here rather than a silently dropped setting there. It also writes
// the prod overlay's image digests from what a push printed (Pin).
package manifests

import (
	"bytes"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Object is one rendered object: Value is a pointer to its k8s.io/api type
// (*appsv1.Deployment, ...), YAML its rendered form.
type Object struct {
	Kind, Name string
	Value      any
	YAML       []byte
}

// ID names the object as kubectl does: Kind/name.
func (o Object) ID() string { return o.Kind + "/" + o.Name }

// types are the kinds deploy/ may hold, by apiVersion and kind. A kind
// missing here is an error: a new kind needs its type, so that it too is
// decoded strictly.
var types = map[string]reflect.Type{
	"v1/Namespace":                           reflect.TypeFor[corev1.Namespace](),
	"v1/ServiceAccount":                      reflect.TypeFor[corev1.ServiceAccount](),
	"v1/Service":                             reflect.TypeFor[corev1.Service](),
	"v1/Secret":                              reflect.TypeFor[corev1.Secret](),
	"v1/ConfigMap":                           reflect.TypeFor[corev1.ConfigMap](),
	"apps/v1/Deployment":                     reflect.TypeFor[appsv1.Deployment](),
	"apps/v1/StatefulSet":                    reflect.TypeFor[appsv1.StatefulSet](),
	"batch/v1/Job":                           reflect.TypeFor[batchv1.Job](),
	"policy/v1/PodDisruptionBudget":          reflect.TypeFor[policyv1.PodDisruptionBudget](),
	"autoscaling/v2/HorizontalPodAutoscaler": reflect.TypeFor[autoscalingv2.HorizontalPodAutoscaler](),
	"networking.k8s.io/v1/NetworkPolicy":     reflect.TypeFor[networkingv1.NetworkPolicy](),
}

// Render builds the kustomization in dir, read from fs, with kubectl's
// defaults, and decodes every object strictly. It returns the objects in
// kustomize's order and the whole rendering as one YAML stream, as
// `kubectl kustomize dir` prints it.
func Render(fs filesys.FileSystem, dir string) ([]Object, []byte, error) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	var objects []Object
	var stream bytes.Buffer
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %w", dir, r.CurId(), err)
		}
		j, err := r.MarshalJSON()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %w", dir, r.CurId(), err)
		}
		o, err := decode(r.GetApiVersion(), r.GetKind(), j)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %s %s: %w", dir, r.GetKind(), r.GetName(), err)
		}
		o.Name, o.YAML = r.GetName(), y
		objects = append(objects, o)
		stream.WriteString("---\n")
		stream.Write(y)
	}
	return objects, stream.Bytes(), nil
}

// decode unmarshals one object's JSON into its type as the API server
// would, but stricter: case-sensitive field names, and an unknown or
// repeated field is an error instead of being dropped.
func decode(apiVersion, kind string, data []byte) (Object, error) {
	t, ok := types[apiVersion+"/"+kind]
	if !ok {
		return Object{}, fmt.Errorf("%s %s is no kind this package decodes; add its k8s.io/api type to types in render.go", apiVersion, kind)
	}
	v := reflect.New(t).Interface()
	strict, err := json.UnmarshalStrict(data, v, json.DisallowUnknownFields)
	if err != nil {
		return Object{}, err
	}
	if len(strict) > 0 {
		return Object{}, fmt.Errorf("not a valid %s: %v", kind, strict)
	}
	return Object{Kind: kind, Value: v}, nil
}

// Find returns the object of kind and name, as its type.
func Find[T any](objects []Object, kind, name string) (*T, error) {
	for _, o := range objects {
		if o.Kind == kind && o.Name == name {
			v, ok := o.Value.(*T)
			if !ok {
				return nil, fmt.Errorf("%s/%s is a %T", kind, name, o.Value)
			}
			return v, nil
		}
	}
	return nil, fmt.Errorf("no %s named %s", kind, name)
}
