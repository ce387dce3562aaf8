package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoadWebhooks(t *testing.T) {
	w, err := LoadWebhooks(env())
	if err != nil || w.MaxAttempts != 8 || w.RetryHorizon != time.Hour || w.Timeout != 10*time.Second || w.Workers != 50 || len(w.AllowCIDRs) != 0 {
		t.Fatalf("defaults: %+v, %v", w, err)
	}
	w, err = LoadWebhooks(env("WEBHOOK_ALLOW_CIDRS", "172.18.0.0/16,127.0.0.1", "WEBHOOK_MAX_ATTEMPTS", "3", "WEBHOOK_RETRY_HORIZON", "20s"))
	if err != nil || len(w.AllowCIDRs) != 2 || w.AllowCIDRs[1].String() != "127.0.0.1/32" || w.MaxAttempts != 3 || w.RetryHorizon != 20*time.Second {
		t.Fatalf("set: %+v, %v", w, err)
	}
	tests := []struct {
		name string
		kv   []string
	}{
		{"WEBHOOK_ALLOW_CIDRS", []string{"WEBHOOK_ALLOW_CIDRS", "the office"}},
		{"WEBHOOK_MAX_ATTEMPTS", []string{"WEBHOOK_MAX_ATTEMPTS", "0"}},
		{"WEBHOOK_RETRY_HORIZON", []string{"WEBHOOK_RETRY_HORIZON", "forever"}},
		{"WEBHOOK_TIMEOUT", []string{"WEBHOOK_TIMEOUT", "-1s"}},
		{"NOTIFIER_WORKERS", []string{"NOTIFIER_WORKERS", "many"}},
	}
	for _, tc := range tests {
		t.Run("a bad "+tc.name+" is named", func(t *testing.T) {
			if _, err := LoadWebhooks(env(tc.kv...)); err == nil || !strings.Contains(err.Error(), tc.name+": ") {
				t.Errorf("got %v", err)
			}
		})
	}
}
