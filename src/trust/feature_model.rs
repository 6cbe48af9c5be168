//! The features' shared-covariance model: class centres and the precision's Cholesky factor,
//! for the class-distance score and for whitening features (the personal head uses it too).

use super::*;

/// The class centres and shared precision matrix of the penultimate features, for
/// [`Method::ClassDistance`]. The precision `P` is stored as its Cholesky factor `L`
/// (`P = L Lᵀ`, lower triangle only): half the numbers, and `dᵀ P d = |Lᵀ d|²`.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureModel {
    /// Feature width F.
    width: usize,
    /// `CLASSES x F`, row by row.
    centres: Vec<f32>,
    /// The lower triangle of `L`, row by row (`F (F + 1) / 2` numbers).
    factor: Vec<f32>,
    /// `Lᵀ c` for each class centre `c`, made by [`FeatureModel::new`]: with them the
    /// nearest centre costs one product with `Lᵀ` instead of one per class (for a 1,568-wide
    /// flattened feature map, the difference between minutes and seconds of calibration).
    whitened_centres: Vec<f64>,
}

/// Numbers in the lower triangle of an `n x n` matrix.
pub fn triangle_len(n: usize) -> usize {
    n * (n + 1) / 2
}

impl FeatureModel {
    /// The model of `width`-wide features with these class centres (`CLASSES x width`, row
    /// by row) and precision factor (lower triangle of `L`, row by row).
    pub fn new(width: usize, centres: Vec<f32>, factor: Vec<f32>) -> FeatureModel {
        let mut model = FeatureModel {
            width,
            centres,
            factor,
            whitened_centres: Vec::new(),
        };
        model.whitened_centres = match width {
            0 => Vec::new(),
            _ => model
                .centres
                .chunks(width)
                .filter_map(|centre| model.whiten(centre))
                .flatten()
                .collect(),
        };
        model
    }

    /// `Lᵀ c` for each class centre `c`, `CLASSES x F`, row by row.
    pub fn whitened_centres(&self) -> &[f64] {
        &self.whitened_centres
    }

    /// The class centres, `CLASSES x F`, row by row.
    pub fn centres(&self) -> &[f32] {
        &self.centres
    }

    /// The lower triangle of the precision's Cholesky factor `L`, row by row.
    pub fn factor(&self) -> &[f32] {
        &self.factor
    }

    /// `Lᵀ x`, in double precision (so that subtracting two of them loses nothing that
    /// `Lᵀ (a - b)` in single precision would keep); `None` when `x` does not have the
    /// model's width. Distances between whitened vectors are plain Euclidean ones, so
    /// features compared often (a person's examples) are whitened once.
    pub fn whiten(&self, x: &[f32]) -> Option<Vec<f64>> {
        let n = self.width;
        if x.len() != n || self.factor.len() != triangle_len(n) {
            return None;
        }
        // (Lᵀ x)_j = sum over rows i >= j of L[i][j] x_i.
        let mut out = vec![0f64; n];
        let mut offset = 0;
        for (i, &xi) in x.iter().enumerate() {
            let xi = f64::from(xi);
            for (o, &l) in out.iter_mut().zip(&self.factor[offset..offset + i + 1]) {
                *o += f64::from(l) * xi;
            }
            offset += i + 1;
        }
        Some(out)
    }

    /// Squared Mahalanobis distance from `features` to the nearest class centre,
    /// `min_c |Lᵀ x - Lᵀ c|²`; `None` when the features do not have the model's width.
    pub fn nearest_distance(&self, features: &[f32]) -> Option<f32> {
        if self.width == 0 || self.whitened_centres.len() != CLASSES * self.width {
            return None;
        }
        let whitened = self.whiten(features)?;
        let nearest = self
            .whitened_centres
            .chunks(self.width)
            .map(|centre| {
                whitened
                    .iter()
                    .zip(centre)
                    .map(|(x, c)| (x - c) * (x - c))
                    .sum::<f64>()
            })
            .fold(f64::INFINITY, f64::min);
        Some(nearest as f32)
    }

    /// Squared Mahalanobis distance `|Lᵀ (a - b)|²` between two feature vectors; `None` when
    /// either does not have the model's width.
    pub fn distance(&self, a: &[f32], b: &[f32]) -> Option<f32> {
        if a.len() != b.len() {
            return None;
        }
        let difference: Vec<f32> = a.iter().zip(b).map(|(x, y)| x - y).collect();
        let projected = self.whiten(&difference)?;
        Some(projected.iter().map(|p| p * p).sum::<f64>() as f32)
    }
}
