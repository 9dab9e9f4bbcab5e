package run

import "encoding/json"

// The results of continual learning (nadir continual): results.json and
// state.json of its output directory.

// ContinualResult is one method's outcome over the task sequence.
type ContinualResult struct {
	Method string `json:"method"`
	// Acc[t][j] is the test accuracy on task j after learning task t
	// (j ≤ t; NaN-free: later tasks are left out of each row).
	Acc             [][]float64 `json:"acc"`
	AverageAccuracy float64     `json:"average_accuracy"`
	Forgetting      float64     `json:"forgetting"`
	Params          int         `json:"params"`
	ParamsPerTask   []int       `json:"params_per_task"`
	Widths          [][]int     `json:"widths,omitempty"` // firefly: trunk widths after each task
}

// ContinualSummary is results.json: the comparison's data, task sequence
// and each method's result by name.
type ContinualSummary struct {
	Command string                      `json:"command"` // "continual"
	Data    string                      `json:"data"`
	Tasks   string                      `json:"tasks"`
	Methods map[string]*ContinualResult `json:"methods"`
}

// ContinualState is state.json: the settings that produced the finished
// methods (Key, compared as JSON values so that field order and new
// defaults of older files do not matter) and their results, so that the
// same command continues an interrupted comparison.
type ContinualState struct {
	Key     json.RawMessage             `json:"key"`
	Methods map[string]*ContinualResult `json:"methods"`
}
