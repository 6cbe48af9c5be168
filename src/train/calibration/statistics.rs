//! The fits behind the rules: the temperature (golden-section search on `ln T`), and the
//! class centres with the shared covariance's precision factor (nalgebra's Cholesky).

use nalgebra::{Cholesky, DMatrix};

use super::*;

/// The temperature minimizing the negative log-likelihood of `labels` under
/// `softmax(logits / T)`, searched over `T` in 0.05..20 (golden section on `ln T`; the NLL is
/// convex in `1 / T`).
pub fn fit_temperature(logits: &[[f32; CLASSES]], labels: &[u8]) -> f32 {
    let nll = |log_t: f64| {
        let t = log_t.exp() as f32;
        let probabilities: Vec<_> = logits.iter().map(|l| softmax(&l.map(|v| v / t))).collect();
        negative_log_likelihood(labels, &probabilities)
    };
    let (mut low, mut high) = (0.05f64.ln(), 20f64.ln());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut a = high - ratio * (high - low);
    let mut b = low + ratio * (high - low);
    let (mut fa, mut fb) = (nll(a), nll(b));
    for _ in 0..60 {
        if fa < fb {
            high = b;
            b = a;
            fb = fa;
            a = high - ratio * (high - low);
            fa = nll(a);
        } else {
            low = a;
            a = b;
            fa = fb;
            b = low + ratio * (high - low);
            fb = nll(b);
        }
    }
    ((low + high) / 2.0).exp() as f32
}

/// Class centres and the pooled within-class covariance of `features` (rows of width F),
/// inverted with a small ridge.
pub fn fit_feature_model(features: &[Vec<f32>], labels: &[u8]) -> Result<FeatureModel> {
    let width = features.first().map_or(0, Vec::len);
    if width == 0 {
        bail!("the model has no `features` output: re-export it with this version");
    }
    let mut sums = vec![vec![0f64; width]; CLASSES];
    let mut counts = [0usize; CLASSES];
    for (f, &l) in features.iter().zip(labels) {
        counts[usize::from(l)] += 1;
        for (s, &v) in sums[usize::from(l)].iter_mut().zip(f) {
            *s += f64::from(v);
        }
    }
    if let Some(class) = counts.iter().position(|&c| c == 0) {
        bail!("no validation example of class {class}: cannot fit its centre");
    }
    let centres: Vec<Vec<f64>> = sums
        .iter()
        .zip(counts)
        .map(|(s, c)| s.iter().map(|v| v / c as f64).collect())
        .collect();
    // The lower triangle, row by row (each row a slice, so that the loop vectorizes), then
    // mirrored: the covariance is symmetric.
    let mut covariance = vec![0f64; width * width];
    for (f, &l) in features.iter().zip(labels) {
        let centre = &centres[usize::from(l)];
        let d: Vec<f64> = f
            .iter()
            .zip(centre)
            .map(|(&v, c)| f64::from(v) - c)
            .collect();
        for (i, row) in covariance.chunks_exact_mut(width).enumerate() {
            let di = d[i];
            for (c, &dj) in row[..=i].iter_mut().zip(&d) {
                *c += di * dj;
            }
        }
    }
    for i in 0..width {
        for j in 0..i {
            covariance[j * width + i] = covariance[i * width + j];
        }
    }
    let n = features.len() as f64;
    covariance.iter_mut().for_each(|c| *c /= n);
    let trace: f64 = (0..width).map(|i| covariance[i * width + i]).sum();
    let ridge = 1e-4 * trace / width as f64;
    (0..width).for_each(|i| covariance[i * width + i] += ridge);
    let factor = precision_factor(&covariance, width)?;
    Ok(FeatureModel::new(
        width,
        centres.iter().flatten().map(|&v| stored(v)).collect(),
        (0..width)
            .flat_map(|i| (0..=i).map(move |j| (i, j)))
            .map(|(i, j)| stored(factor[i * width + j]))
            .collect(),
    ))
}

/// `value` rounded to the 4 significant digits the model file stores (thresholds are fitted
/// with the stored values, so the page computes exactly what was measured).
fn stored(value: f64) -> f32 {
    format!("{:.3e}", value as f32)
        .parse()
        .unwrap_or(value as f32)
}

/// The lower-triangular `L` (row-major, `n x n`) with `L Lᵀ = covariance⁻¹`, for a symmetric
/// positive-definite `covariance`: the factor the page whitens features with.
pub(super) fn precision_factor(covariance: &[f64], n: usize) -> Result<Vec<f64>> {
    let covariance = DMatrix::from_row_slice(n, n, covariance);
    let precision = Cholesky::new(covariance)
        .context("the feature covariance is not positive-definite")?
        .inverse();
    let factor = Cholesky::new(precision)
        .context("the feature precision matrix is not positive-definite")?
        .l();
    Ok((0..n * n).map(|k| factor[(k / n, k % n)]).collect())
}
