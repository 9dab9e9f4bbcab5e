package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lastJSON decodes the last line of out.
func lastJSON(t *testing.T, out string, v any) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
}

func TestExperimentToyWritesPlotAndJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "toy")
	var out bytes.Buffer
	args := []string{"toy", "--steps", "40", "--points", "120", "--width", "4", "--seed", "3", "--out", dir, "--json"}
	if err := runExperiment(context.Background(), args, &out); err != nil {
		t.Fatal(err)
	}
	var got struct {
		FinalLoss map[string]float64 `json:"final_loss"`
		Total     int                `json:"total_steps"`
	}
	lastJSON(t, out.String(), &got)
	for _, m := range []string{"split", "random-split", "new-neuron", "gradient", "signed"} {
		if v, ok := got.FinalLoss[m]; !ok || !(v > 0) {
			t.Errorf("final_loss[%s] = %v (present %t)", m, v, ok)
		}
	}
	if got.Total != 4*40 {
		t.Errorf("total_steps %d, want %d", got.Total, 4*40)
	}
	for _, f := range []string{"toy_loss.png", "toy.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "toy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []struct {
			Method string    `json:"method"`
			Loss   []float64 `json:"loss"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != 5 || len(doc.Runs[0].Loss) != 160/10+1 {
		t.Errorf("toy.json: %d runs, first with %d loss points", len(doc.Runs), len(doc.Runs[0].Loss))
	}
}

func TestExperimentStuckJSON(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := runExperiment(context.Background(), []string{"stuck", "--json", "--out", dir}, &out); err != nil {
		t.Fatal(err)
	}
	var got struct {
		S2D          *int     `json:"s2d_selected"`
		Signed       int      `json:"signed_selected"`
		Before       float64  `json:"loss_before"`
		After        float64  `json:"loss_after_signed"`
		MinLambdaMin *float64 `json:"min_lambda_min"`
		MaxLambdaMax float64  `json:"max_lambda_max"`
		Construction string   `json:"construction"`
		Tries        int      `json:"tries"`
	}
	lastJSON(t, out.String(), &got)
	if got.S2D == nil || *got.S2D != 0 || got.Signed == 0 || !(got.After < got.Before) || got.MaxLambdaMax <= 0 {
		t.Errorf("stuck: %+v", got)
	}
	if got.Construction != "seed-search" && got.Construction != "constructed" || got.Tries < 1 {
		t.Errorf("construction %q after %d tries", got.Construction, got.Tries)
	}
	if _, err := os.Stat(filepath.Join(dir, "stuck.json")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(out.String(), "S2D selects 0 neurons") {
		t.Errorf("summary does not say S2D selects nothing:\n%s", out.String())
	}
}

func TestExperimentBadInput(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nosuch"},
		{"toy", "--bogus"},
		{"toy", "--act", "relu"},
		{"toy", "--opt", "sgd"},
		{"toy", "extra"},
		{"stuck", "--signed-c", "1"},
		{"stuck", "--seed", "x"},
	} {
		var out bytes.Buffer
		err := runExperiment(context.Background(), args, &out)
		if err == nil {
			t.Errorf("%v accepted", args)
			continue
		}
		if _, ok := err.(*exitError); ok {
			t.Errorf("%v: bad input must exit 2, got a runtime failure: %v", args, err)
		}
	}
	if code := realMain([]string{"experiment", "nosuch"}); code != 2 {
		t.Errorf("nadir experiment nosuch: exit %d, want 2", code)
	}
}
