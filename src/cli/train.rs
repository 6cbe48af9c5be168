//! `digitpad train`: the training run from the command line (every flag's default from the
//! data set's recipe, [`TrainConfig::recipe`]), with Ctrl-C stopping after the current step.

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
    /// Renderings of each training writer's pen digit (as written, then varied) [default:
    /// the digit recipe's, 3].
    #[arg(long, value_name = "N")]
    pen_copies: Option<usize>,
    /// Draw the varied renderings of the pen digits anew every epoch (true) or once before
    /// training (false) [default: the digit recipe's].
    #[arg(long, value_name = "BOOL")]
    pen_redraw: Option<bool>,
    /// Largest shift of each pen stroke on its own in a varied rendering, as a share of the
    /// drawing's longer side [default: the digit recipe's].
    #[arg(long, value_name = "SHARE")]
    stroke_shift: Option<f32>,
    /// Elastic distortion strength (pixels) added to the pen drawings' distortions [default:
    /// the digit recipe's].
    #[arg(long, value_name = "PX")]
    pen_elastic: Option<f32>,
    /// Weight of a pen letter's uniform target (0: letters are not used) [default: the
    /// digit recipe's, 0.5].
    #[arg(long, value_name = "W")]
    letter_weight: Option<f32>,
    /// Network to train [default: the data set's recipe: digitnet for mnist, clothnet for
    /// fashion-mnist].
    #[arg(long = "arch", value_enum)]
    architecture: Option<Architecture>,
    /// Passes over the training set [default: the data set's recipe: 11 for mnist, 16 for
    /// fashion-mnist].
    #[arg(long)]
    epochs: Option<usize>,
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
    /// Train on the images as they are (no random distortion).
    #[arg(long)]
    no_augment: bool,
    /// Elastic distortion strength in pixels (0 = off) [default: the data set's recipe: 1.5
    /// for mnist, 0 for fashion-mnist].
    #[arg(long, value_name = "PX")]
    elastic: Option<f32>,
    /// Share of training images in which a random rectangle (2-20% of the image) is erased
    /// [default: 0].
    #[arg(long, value_name = "RATE")]
    erase: Option<f32>,
    /// Digit data sets only (writing styles drawn onto training images; see
    /// docs/styles-and-fixtures.md).
    #[command(flatten)]
    styles: StyleArgs,
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

/// The writing-style flags: each unset one takes the digit recipe's rate
/// ([`StyleRates::SHIPPED`], shown in `docs/trainer.md`); any set one on a data set that is
/// not digits is an error.
#[derive(Args, Debug)]
pub(super) struct StyleArgs {
    /// Share of training zeros given a slash through the loop (0 = off).
    #[arg(long, value_name = "RATE")]
    slashed_zero: Option<f32>,
    /// Share of the slashed zeros drawn from scratch with the page's pen (narrow or wide
    /// loops) instead of slashed MNIST zeros (0 = none).
    #[arg(long, value_name = "SHARE")]
    drawn_slashed: Option<f32>,
    /// Slashes drawn onto MNIST zeros keep the zero's lines as wide as they were through the
    /// renormalization, as the page keeps its pen's width (`--pen-matched-slash false` to
    /// turn it off).
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pen_matched_slash: Option<bool>,
    /// Share of training eights replaced by eights drawn from scratch with the page's pen
    /// (one stroke with its top loop closed, loose or open, or two stacked loops; 0 = off).
    #[arg(long, value_name = "SHARE")]
    drawn_eight: Option<f32>,
    /// Share of training sevens given a bar across the stem (0 = off).
    #[arg(long, value_name = "RATE")]
    crossed_seven: Option<f32>,
    /// Share of training ones given a long flag, half of them a base too (0 = off).
    #[arg(long, value_name = "RATE")]
    flagged_one: Option<f32>,
}

impl StyleArgs {
    /// The first style flag given, by name.
    fn first_given(&self) -> Option<&'static str> {
        [
            ("--slashed-zero", self.slashed_zero.is_some()),
            ("--drawn-slashed", self.drawn_slashed.is_some()),
            ("--pen-matched-slash", self.pen_matched_slash.is_some()),
            ("--drawn-eight", self.drawn_eight.is_some()),
            ("--crossed-seven", self.crossed_seven.is_some()),
            ("--flagged-one", self.flagged_one.is_some()),
        ]
        .into_iter()
        .find_map(|(name, given)| given.then_some(name))
    }

    /// `rates` with the flags given in place of theirs.
    fn over(&self, rates: StyleRates) -> StyleRates {
        let rate = |flag: Option<f32>, recipe: f32| flag.unwrap_or(recipe).clamp(0.0, 1.0);
        StyleRates {
            slashed_zero: rate(self.slashed_zero, rates.slashed_zero),
            drawn_slashed: rate(self.drawn_slashed, rates.drawn_slashed),
            pen_matched_slash: self.pen_matched_slash.unwrap_or(rates.pen_matched_slash),
            drawn_eight: rate(self.drawn_eight, rates.drawn_eight),
            crossed_seven: rate(self.crossed_seven, rates.crossed_seven),
            flagged_one: rate(self.flagged_one, rates.flagged_one),
        }
    }
}

/// The training defaults the flags shared by every data set show and fall back to
/// ([`TrainConfig::default`]; the data set's recipe, [`TrainConfig::recipe`], has the same
/// ones).
static DEFAULTS: std::sync::LazyLock<TrainConfig> = std::sync::LazyLock::new(TrainConfig::default);

pub(super) fn train(args: TrainArgs) -> Result<()> {
    let dataset = args.data.dataset;
    let recipe = TrainConfig::recipe(dataset);
    if !dataset.is_digits() {
        let digit_only = args.styles.first_given().or_else(|| {
            [
                ("--pen-data", args.pen.pen_data.is_some()),
                ("--hold-out", !args.pen.hold_out.is_empty()),
                ("--pen-copies", args.pen_copies.is_some()),
                ("--pen-redraw", args.pen_redraw.is_some()),
                ("--stroke-shift", args.stroke_shift.is_some()),
                ("--pen-elastic", args.pen_elastic.is_some()),
                ("--letter-weight", args.letter_weight.is_some()),
            ]
            .into_iter()
            .find_map(|(name, given)| given.then_some(name))
        });
        if let Some(flag) = digit_only {
            bail!(
                "{flag}: writing styles and real pen writing are for digits; {} has neither",
                dataset.name()
            );
        }
    }
    let config = TrainConfig {
        architecture: args.architecture.unwrap_or(recipe.architecture),
        dataset,
        epochs: args.epochs.unwrap_or(recipe.epochs),
        batch_size: args.batch_size.max(1),
        optimizer: args.optimizer,
        learning_rate: args.lr.unwrap_or(args.optimizer.default_learning_rate()),
        momentum: args.momentum,
        weight_decay: args.weight_decay,
        schedule: args.schedule,
        operators: args.operators,
        augmentation: recipe
            .augmentation
            .filter(|_| !args.no_augment)
            .map(|a| Augmentation {
                elastic_alpha: args.elastic.unwrap_or(a.elastic_alpha).max(0.0),
                erase: args.erase.unwrap_or(a.erase).clamp(0.0, 1.0),
                styles: args.styles.over(a.styles),
                ..a
            }),
        seed: args.seed,
        validation_split: args.val_split,
        device: args.device,
        limit: args.limit,
        pen: recipe.pen.filter(|_| !args.no_pen_data).map(|p| PenRecipe {
            digit_copies: args.pen_copies.unwrap_or(p.digit_copies).max(1),
            letter_weight: args.letter_weight.unwrap_or(p.letter_weight).max(0.0),
            redraw_each_epoch: args.pen_redraw.unwrap_or(p.redraw_each_epoch),
            elastic_alpha: args.pen_elastic.unwrap_or(p.elastic_alpha).max(0.0),
            jitter: pen_data::StrokeJitter {
                max_stroke_shift: args
                    .stroke_shift
                    .unwrap_or(p.jitter.max_stroke_shift)
                    .max(0.0),
                ..p.jitter
            },
        }),
        pen_held_out: args.pen.hold_out.clone(),
    };
    if !config.pen_held_out.is_empty() && config.pen.is_none() {
        bail!("--hold-out keeps pen-data writers out of training: it needs pen data (drop --no-pen-data)");
    }
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
