//! `digitpad train`: the training run from the command line (every flag's default from the shipped
//! recipe), with Ctrl-C stopping after the current step.

use super::*;

#[derive(Args, Debug)]
pub(super) struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    pen: PenArgs,
    /// Learn from the data set's images alone, without real pen writing.
    #[arg(long)]
    no_pen_data: bool,
    /// Renderings of each training writer's pen digit (as written, then varied).
    #[arg(long, value_name = "N", default_value_t = PenRecipe::SHIPPED.digit_copies)]
    pen_copies: usize,
    /// Weight of a pen letter's uniform target (0: letters are not used).
    #[arg(long, value_name = "W", default_value_t = PenRecipe::SHIPPED.letter_weight)]
    letter_weight: f32,
    /// Network to train.
    #[arg(long = "arch", value_enum, default_value_t = DEFAULTS.architecture)]
    architecture: Architecture,
    /// Passes over the training set.
    #[arg(long, default_value_t = DEFAULTS.epochs)]
    epochs: usize,
    /// Images per optimizer step.
    #[arg(long, default_value_t = DEFAULTS.batch_size)]
    batch_size: usize,
    /// Optimizer.
    #[arg(long, value_enum, default_value_t = DEFAULTS.optimizer)]
    optimizer: OptimizerKind,
    /// Peak learning rate [default: 0.002 for Adam, 0.05 for SGD].
    #[arg(long)]
    lr: Option<f64>,
    /// Momentum (SGD only).
    #[arg(long, default_value_t = DEFAULTS.momentum)]
    momentum: f64,
    /// L2 weight decay.
    #[arg(long, default_value_t = DEFAULTS.weight_decay)]
    weight_decay: f64,
    /// Learning-rate schedule.
    #[arg(long, value_enum, default_value_t = DEFAULTS.schedule)]
    schedule: Schedule,
    /// Who computes the convolutions, 2x2 max poolings and batch norms when training on the
    /// CPU: own (this crate's: convolutions as im2col and matrix products, a step in ~0.45 of
    /// flex's time; docs/decisions/training-operators.md) or burn (flex's).
    #[arg(long, alias = "conv", value_enum, default_value_t = DEFAULTS.operators)]
    operators: TrainingOperators,
    /// Train on the images as they are (no random rotation, scale, shear, shift).
    #[arg(long)]
    no_augment: bool,
    /// Elastic distortion strength in pixels (0 = off).
    #[arg(long, default_value_t = Augmentation::default().elastic_alpha)]
    elastic: f32,
    /// Share of training zeros given a slash through the loop (0 = off).
    #[arg(long, value_name = "RATE", default_value_t = StyleRates::SHIPPED.slashed_zero)]
    slashed_zero: f32,
    /// Share of the slashed zeros drawn from scratch with the page's pen (narrow or wide
    /// loops) instead of slashed MNIST zeros (0 = none).
    #[arg(long, value_name = "SHARE", default_value_t = StyleRates::SHIPPED.drawn_slashed)]
    drawn_slashed: f32,
    /// Slashes drawn onto MNIST zeros keep the zero's lines as wide as they were through the
    /// renormalization, as the page keeps its pen's width (`--pen-matched-slash false` to
    /// turn it off).
    #[arg(
        long,
        value_name = "BOOL",
        default_value_t = StyleRates::SHIPPED.pen_matched_slash,
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pen_matched_slash: bool,
    /// Share of training eights replaced by eights drawn from scratch with the page's pen
    /// (one stroke with its top loop closed, loose or open, or two stacked loops; 0 = off).
    #[arg(long, value_name = "SHARE", default_value_t = StyleRates::SHIPPED.drawn_eight)]
    drawn_eight: f32,
    /// Share of training sevens given a bar across the stem (0 = off).
    #[arg(long, value_name = "RATE", default_value_t = StyleRates::SHIPPED.crossed_seven)]
    crossed_seven: f32,
    /// Share of training ones given a long flag, half of them a base too (0 = off).
    #[arg(long, value_name = "RATE", default_value_t = StyleRates::SHIPPED.flagged_one)]
    flagged_one: f32,
    /// Seed for initialization, shuffling and augmentation.
    #[arg(long, default_value_t = DEFAULTS.seed)]
    seed: u64,
    /// Fraction of the training set held out for validation (its last part).
    #[arg(long, default_value_t = DEFAULTS.validation_split)]
    val_split: f64,
    /// Where to train: cpu (burn flex), gpu (burn wgpu), cuda, ndarray.
    #[arg(long, value_enum, default_value_t = DEFAULTS.device)]
    device: DeviceChoice,
    /// Train on only the first N training images (quick runs).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Model folder [default: target/models/ARCH-DATASET]. The shipped model is replaced only
    /// when this names `model` (see docs/trainer.md, "Shipping a model").
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Checkpoint folder [default: target/checkpoints/ARCH-DATASET].
    #[arg(long, value_name = "DIR")]
    checkpoint_dir: Option<PathBuf>,
    /// Continue from the last checkpoint in the checkpoint folder.
    #[arg(long)]
    resume: bool,
}

/// The training defaults every `train` flag shows and falls back to: one source, the
/// shipped recipe ([`TrainConfig::default`]).
static DEFAULTS: std::sync::LazyLock<TrainConfig> = std::sync::LazyLock::new(TrainConfig::default);

pub(super) fn train(args: TrainArgs) -> Result<()> {
    let config = TrainConfig {
        architecture: args.architecture,
        dataset: args.data.dataset,
        epochs: args.epochs,
        batch_size: args.batch_size.max(1),
        optimizer: args.optimizer,
        learning_rate: args.lr.unwrap_or(args.optimizer.default_learning_rate()),
        momentum: args.momentum,
        weight_decay: args.weight_decay,
        schedule: args.schedule,
        operators: args.operators,
        augmentation: (!args.no_augment).then(|| Augmentation {
            elastic_alpha: args.elastic,
            styles: StyleRates {
                slashed_zero: args.slashed_zero.clamp(0.0, 1.0),
                drawn_slashed: args.drawn_slashed.clamp(0.0, 1.0),
                pen_matched_slash: args.pen_matched_slash,
                drawn_eight: args.drawn_eight.clamp(0.0, 1.0),
                crossed_seven: args.crossed_seven.clamp(0.0, 1.0),
                flagged_one: args.flagged_one.clamp(0.0, 1.0),
            },
            ..Augmentation::default()
        }),
        seed: args.seed,
        validation_split: args.val_split,
        device: args.device,
        limit: args.limit,
        pen: (!args.no_pen_data).then_some(PenRecipe {
            digit_copies: args.pen_copies.max(1),
            letter_weight: args.letter_weight.max(0.0),
            ..PenRecipe::SHIPPED
        }),
    };
    let run_name = format!("{}-{}", config.architecture.name(), config.dataset.name());
    let out_dir = args
        .out
        .unwrap_or_else(|| Path::new("target").join("models").join(&run_name));
    let checkpoint_dir = args
        .checkpoint_dir
        .unwrap_or_else(|| Path::new("target").join("checkpoints").join(&run_name));
    run::run_training(
        &config,
        &RunOptions {
            data_dir: args.data.data_dir,
            pen_dir: args.pen.pen_data,
            out_dir,
            checkpoint_dir,
            resume: args.resume,
            command: command_line(),
        },
        &interrupt_flag(),
    )
}

/// Arms Ctrl-C: the first press asks the training loop to stop after the current step
/// (keeping the last checkpoint), the second exits at once.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    let installed = ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            eprintln!("\nsecond Ctrl-C: exiting now");
            std::process::exit(EXIT_INTERRUPTED.into());
        }
        eprintln!("\nCtrl-C: stopping after this step; the last checkpoint is kept (Ctrl-C again to exit now)");
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C handler not installed ({e}); Ctrl-C will end the run at once");
    }
    flag
}
