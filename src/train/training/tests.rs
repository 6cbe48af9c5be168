//! Tests of [`super`] (`src/train/training.rs`).

use super::*;

#[test]
fn loss_and_accuracy_by_hand() {
    // Uniform logits: loss ln(10), and argmax picks class 0.
    let logits = vec![[0.0f32; CLASSES]; 2];
    let (loss, acc) = loss_and_accuracy(&logits, &[0, 3]);
    assert!((loss - 10f64.ln()).abs() < 1e-6);
    assert_eq!(acc, 0.5);
}

#[test]
fn soft_targets_are_one_hot_for_digits_and_uniform_for_letters() {
    let device = Device::flex();
    let values: Vec<f32> = soft_targets(&[3, NOT_A_DIGIT_LABEL], 0.5, &device)
        .into_data()
        .try_to_vec()
        .unwrap();
    let mut digit = [0.0f32; CLASSES];
    digit[3] = 1.0;
    assert_eq!(&values[..CLASSES], &digit);
    assert!(values[CLASSES..].iter().all(|&v| (v - 0.05).abs() < 1e-7));
}

#[test]
fn the_soft_loss_of_one_hot_targets_is_burns_cross_entropy_and_letters_want_uniform() {
    let device = Device::flex();
    let rows: Vec<f32> = (0..3 * CLASSES)
        .map(|i| ((i * 37 % 23) as f32 - 11.0) / 4.0)
        .collect();
    let logits = || Tensor::<2>::from_data(TensorData::new(rows.clone(), [3, CLASSES]), &device);
    let labels = [7u8, 0, 4];
    let soft: f32 = soft_cross_entropy(logits(), soft_targets(&labels, 0.5, &device)).into_scalar();
    let burns: f32 = CrossEntropyLossConfig::new()
        .init(&device)
        .forward(logits(), labels_tensor(&labels, &device))
        .into_scalar();
    assert!((soft - burns).abs() < 1e-5, "{soft} vs {burns}");
    // A letter's loss is least when every class is equally likely: 0.5 * ln 10.
    let letter = |row: Vec<f32>| -> f32 {
        soft_cross_entropy(
            Tensor::<2>::from_data(TensorData::new(row, [1, CLASSES]), &device),
            soft_targets(&[NOT_A_DIGIT_LABEL], 0.5, &device),
        )
        .into_scalar()
    };
    let uniform = letter(vec![0.0; CLASSES]);
    assert!((uniform - 0.5 * 10f32.ln()).abs() < 1e-5, "{uniform}");
    assert!(letter(rows[..CLASSES].to_vec()) > uniform);
}

#[test]
fn a_resident_batch_is_the_batch_built_on_the_host() {
    let device = Device::flex().autodiff();
    let images: Vec<[f32; PIXELS]> = (0..6)
        .map(|k| std::array::from_fn(|i| ((i * 7 + k * 13) % 29) as f32 / 29.0))
        .collect();
    let labels = [3u8, 1, 4, 1, 5, 9];
    let resident = ResidentSet::upload(&images, &labels, &device);
    let batch = [4usize, 0, 4, 2];
    let (gathered, gathered_labels) = resident.batch(&batch, &device);
    let built = images_tensor(batch.iter().flat_map(|&i| images[i]).collect(), &device);
    let built_labels: Vec<u8> = batch.iter().map(|&i| labels[i]).collect();
    assert_eq!(gathered.dims(), [4, 1, SIDE, SIDE]);
    assert_eq!(gathered.into_data(), built.into_data());
    assert_eq!(
        gathered_labels.into_data(),
        labels_tensor(&built_labels, &device).into_data()
    );
}

/// Writing styles reach the digit data set's own images only: with every style at rate 1 and
/// no distortion, MNIST zeros and eights change, while Fashion-MNIST's T-shirts (class 0)
/// and bags (class 8) and real pen drawings come out exactly as they went in.
#[test]
fn no_writing_style_reaches_an_image_that_is_not_a_digit_of_the_data_set() {
    use super::super::styles::StyleRates;
    let styles_only = Augmentation {
        max_rotation_deg: 0.0,
        max_scale: 0.0,
        max_shear: 0.0,
        max_shift: 0.0,
        elastic_alpha: 0.0,
        styles: StyleRates {
            slashed_zero: 1.0,
            drawn_slashed: 0.5,
            pen_matched_slash: true,
            drawn_eight: 1.0,
            crossed_seven: 1.0,
            flagged_one: 1.0,
        },
        flip: false,
        erase: 0.0,
    };
    let set = crate::idx::LabeledImages::from_idx(
        include_bytes!("../../../tests/fixtures/mnist-test-images.idx.gz"),
        "mnist-test-images.idx.gz",
        include_bytes!("../../../tests/fixtures/mnist-test-labels.idx.gz"),
        "mnist-test-labels.idx.gz",
    )
    .unwrap();
    let mut rng = StdRng::seed_from_u64(5);
    let mut restyled = 0;
    for i in (0..set.len()).filter(|&i| matches!(set.labels[i], 0 | 1 | 7 | 8)) {
        let image = *set.digit(i).pixels();
        let label = set.labels[i];
        for (dataset, from_pen) in [(Dataset::FashionMnist, false), (Dataset::Mnist, true)] {
            let out = augmented(
                &styles_only,
                dataset,
                (&image, label, from_pen),
                0.0,
                &mut rng,
            );
            assert!(
                out.iter().zip(&image).all(|(a, b)| (a - b).abs() < 1e-5),
                "image {i} (class {label}) changed on {dataset:?} (from pen: {from_pen})"
            );
        }
        let out = augmented(
            &styles_only,
            Dataset::Mnist,
            (&image, label, false),
            0.0,
            &mut rng,
        );
        restyled += usize::from(out.iter().zip(&image).any(|(a, b)| (a - b).abs() > 1e-3));
    }
    // The test can fail: the same settings do restyle MNIST's digits.
    assert!(restyled > 20, "only {restyled} MNIST digits were restyled");
}

#[test]
fn pen_drawings_alone_get_the_pen_elastic_distortion() {
    let still = Augmentation {
        max_rotation_deg: 0.0,
        max_scale: 0.0,
        max_shear: 0.0,
        max_shift: 0.0,
        elastic_alpha: 0.0,
        styles: crate::train::styles::StyleRates::NONE,
        flip: false,
        erase: 0.0,
    };
    let mut image = [0.0f32; PIXELS];
    for y in 6..22 {
        image[y * 28 + 12..y * 28 + 16].fill(1.0);
    }
    let mut rng = StdRng::seed_from_u64(9);
    let changed = |out: [f32; PIXELS]| out.iter().zip(&image).any(|(a, b)| (a - b).abs() > 1e-3);
    let pen = augmented(&still, Dataset::Mnist, (&image, 1, true), 2.0, &mut rng);
    assert!(changed(pen), "a pen drawing was not bent");
    let mnist = augmented(&still, Dataset::Mnist, (&image, 1, false), 2.0, &mut rng);
    assert!(
        !changed(mnist),
        "an MNIST image got the pen drawings' distortion"
    );
}
