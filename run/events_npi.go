package run

// The events of neural programmer-interpreter training (nadir npi train).

func init() {
	Register[NPIEpoch]()
}

// NPIEpoch ("npi_epoch") holds the metrics at the end of one epoch of NPI
// training.
type NPIEpoch struct {
	Epoch        int     `json:"epoch"`
	Loss         float64 `json:"loss"`          // mean per step
	StepAccuracy float64 `json:"step_accuracy"` // teacher-forced, training set
	Seconds      float64 `json:"seconds"`       // since training started, over every resume
}

func (NPIEpoch) Kind() string { return "npi_epoch" }
