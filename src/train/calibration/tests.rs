//! Tests of [`super`] (`src/train/calibration/mod.rs`).

use super::statistics::precision_factor;
use super::*;

#[test]
fn temperature_recovers_the_one_that_made_the_data() {
    // Labels drawn so that softmax(logits / 2) is exactly right on average: the fitted
    // temperature must come out near 2.
    let mut logits = Vec::new();
    let mut labels = Vec::new();
    for i in 0..2000u32 {
        let mut l = [0.0f32; CLASSES];
        l[0] = 6.0;
        logits.push(l);
        // p(class 0) under T = 2: e^3 / (e^3 + 9).
        let p0 = (3f64.exp() / (3f64.exp() + 9.0) * 2000.0).round() as u32;
        labels.push(if i < p0 { 0 } else { 1 + (i % 9) as u8 });
    }
    let t = fit_temperature(&logits, &labels);
    assert!((t - 2.0).abs() < 0.02, "{t}");
}

#[test]
fn the_precision_factor_whitens_the_covariance() {
    let m = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
    let l = precision_factor(&m, 3).unwrap();
    // L is lower-triangular and L Lᵀ m = I.
    assert!((0..3).all(|i| (i + 1..3).all(|j| l[i * 3 + j] == 0.0)));
    let precision: Vec<f64> = (0..9)
        .map(|k| {
            (0..3)
                .map(|t| l[(k / 3) * 3 + t] * l[(k % 3) * 3 + t])
                .sum()
        })
        .collect();
    for i in 0..3 {
        for j in 0..3 {
            let v: f64 = (0..3).map(|k| precision[i * 3 + k] * m[k * 3 + j]).sum();
            assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12, "{v}");
        }
    }
    assert!(precision_factor(&[1.0, 2.0, 2.0, 4.0], 2).is_err());
}

#[test]
fn feature_model_centres_are_class_means() {
    let features = vec![
        vec![1.0, 0.0],
        vec![3.0, 0.0],
        vec![0.0, 5.0],
        vec![0.0, 7.0],
    ];
    let mut labels = vec![0u8, 0, 1, 1];
    // Every class needs an example.
    assert!(fit_feature_model(&features, &labels).is_err());
    let mut features = features;
    for class in 2..CLASSES as u8 {
        features.push(vec![f32::from(class), 1.0]);
        features.push(vec![f32::from(class), -1.0]);
        labels.extend([class, class]);
    }
    let model = fit_feature_model(&features, &labels).unwrap();
    assert_eq!(&model.centres()[..4], &[2.0, 0.0, 0.0, 6.0]);
    assert_eq!(model.nearest_distance(&[2.0, 0.0]), Some(0.0));
}

#[test]
fn verdicts_from_scores_computed_once_are_the_trusts_own() {
    let trust = Trust {
        temperature: 1.3,
        unsure_margin: 0.2,
        not_digit: Vec::new(),
        features: Some(FeatureModel::new(
            2,
            (0..CLASSES).flat_map(|c| [c as f32 * 3.0, 1.0]).collect(),
            vec![1.0, 0.3, 0.8],
        )),
    };
    let predictions: Vec<Prediction> = (0..200)
        .map(|k| {
            // One digit ahead by a varying margin, the others scattered.
            let logits: [f32; CLASSES] = std::array::from_fn(|c| {
                let spread = ((k * 31 + c * 17) % 23) as f32 * 0.2 - 2.0;
                spread
                    + if c == k % CLASSES {
                        (k % 13) as f32
                    } else {
                        0.0
                    }
            });
            Prediction {
                logits,
                probabilities: trust.probabilities(&logits),
                features: vec![(k % 37) as f32 * 0.8, (k % 11) as f32 - 4.0],
                verdict: Verdict::Digit,
            }
        })
        .collect();
    let scored = Scored::new(&trust, &predictions);
    for methods in candidates(true) {
        let rules = Trust {
            not_digit: fit_thresholds(&trust, &methods, &scored, (&[], 0.7), 0..0),
            ..trust.clone()
        };
        let direct: Vec<Verdict> = predictions
            .iter()
            .map(|p| rules.verdict(&p.logits, &p.features))
            .collect();
        assert_eq!(scored.verdicts(&rules), direct, "{methods:?}");
        // The rules do reject some and keep some, so the comparison means something.
        assert!(direct.contains(&Verdict::NotDigit) && direct.contains(&Verdict::Digit));
    }
}
