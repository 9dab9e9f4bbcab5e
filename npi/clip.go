package npi

// gradClip bounds the joint gradient norm before each Adam step: the LSTM
// core occasionally meets a steep step early in training.
const gradClip = 5
