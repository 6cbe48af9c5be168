//! `digitpad profile`: a training step taken apart, and each convolution timed alone.

use super::*;

#[derive(Args, Debug)]
pub(super) struct ProfileArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Network to profile.
    #[arg(long = "arch", value_enum, default_value = "digitnet")]
    architecture: Architecture,
    /// Images per step.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Steps to time (after 3 warm-up steps).
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Where to train: cpu (burn flex), gpu (burn wgpu), cuda, ndarray.
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceChoice,
    /// Who computes the convolutions, poolings and batch norms on the CPU: own (this
    /// crate's) or burn (flex's).
    #[arg(long, alias = "conv", value_enum, default_value = "own")]
    operators: TrainingOperators,
}

pub(super) fn profile(args: ProfileArgs) -> Result<()> {
    let config = TrainConfig {
        architecture: args.architecture,
        dataset: args.data.dataset,
        batch_size: args.batch_size.max(1),
        device: args.device,
        operators: args.operators,
        ..TrainConfig::default()
    };
    let dir = data::locate(args.data.dataset, args.data.data_dir.as_deref())?;
    let train = data::load_split(args.data.dataset, &dir, Split::Train)?;
    let keep: Vec<usize> = (0..(config.batch_size * 8).min(train.len())).collect();
    let profile =
        crate::train::profile::profile_training_step(&config, &train.select(&keep), args.steps)?;
    println!("{}", profile.to_table());
    Ok(())
}
