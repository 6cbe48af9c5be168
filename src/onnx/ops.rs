//! The ONNX operators this project's models use, and only those: the reading half of
//! [`crate::onnx`].
//!
//! The parsers below follow tract-onnx's own (`tract-onnx/src/ops/nn/mod.rs` and its
//! neighbours, tract is MIT OR Apache-2.0) closely: same attributes, same defaults, same
//! tract operators, so that a model means here what it means under `tract_onnx::onnx()`.
//! The tests check that claim by building every case with both registries and comparing.
//!
//! `tract_onnx::onnx()` registers every operator tract knows (recurrent nets, FFTs, tree
//! ensembles, quantization, random generators, ...), and because the registry holds a pointer
//! to each builder, all of that code is linked into the web app even though a small CNN
//! never calls it. Registering just the operators below keeps it out. The exporter writes only
//! these operators; a model that needs another one fails to load with a message naming it.

use tract_onnx::model::{OnnxOpRegister, ParsingContext};
use tract_onnx::pb::NodeProto;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::{self, cnn, nn};
use tract_onnx::tract_hir::tract_core::ops::element_wise::{ElementWiseMiniOp, ElementWiseOp};

/// Builds one tract operator from one ONNX node.
type Built = TractResult<(Box<dyn InferenceOp>, Vec<String>)>;

/// The operator names [`register`] handles, for error messages and documentation.
pub const SUPPORTED_OPS: &[&str] = &[
    "Add",
    "Cast",
    "Conv",
    "Flatten",
    "GlobalAveragePool",
    "MatMul",
    "MaxPool",
    "Relu",
    "Reshape",
];

/// Registers the operators in [`SUPPORTED_OPS`].
pub fn register(reg: &mut OnnxOpRegister) {
    for &op in SUPPORTED_OPS {
        let builder: fn(&ParsingContext, &NodeProto) -> Built =
            if op == "Cast" { cast } else { expanded };
        reg.insert(op, builder);
    }
}

/// The registry's builder for every operator but `Cast`: the node's [`expansion`].
fn expanded(_: &ParsingContext, node: &NodeProto) -> Built {
    Ok((Box::new(expansion(node)?), vec![]))
}

/// The tract operator for one ONNX node, as an expansion: an operator that knows how to wire
/// itself into a typed graph. tract-onnx's analysis ends up calling the same `wire`, which
/// is what lets [`crate::onnx::typed`] build the typed graph without that analysis.
pub fn expansion(node: &NodeProto) -> TractResult<Box<dyn Expansion>> {
    Ok(match node.op_type.as_str() {
        "Add" => Box::new(ops::binary::InferenceBinOp(Box::new(ops::math::Add))),
        "Conv" => Box::new(conv(node)?),
        "Flatten" => {
            let axis: i64 = node.get_attr_opt("axis")?.unwrap_or(1);
            Box::new(ops::array::Flatten::new(axis))
        }
        "GlobalAveragePool" => Box::new(nn::GlobalAvgPool),
        "MatMul" => Box::new(ops::matmul::MatMulInference::default()),
        "MaxPool" => Box::new(max_pool(node)?),
        "Relu" => Box::new(ops::activations::Clip::new(Some(0.0), None)),
        "Reshape" => {
            // tract 0.22 always reads a 0 in the shape as "copy this dimension" (ONNX's
            // default); a file that asks for allowzero = 1 would silently mean something else.
            if node.get_attr_opt::<i64>("allowzero")?.unwrap_or(0) != 0 {
                bail!("{}: Reshape with allowzero = 1 is not supported", node.name);
            }
            Box::new(ops::array::Reshape::default())
        }
        other => bail!(
            "{}: operator {other} is not supported (this build reads {})",
            node.name,
            SUPPORTED_OPS.join(", ")
        ),
    })
}

/// ONNX explicit padding, `auto_pad` or none, for a convolution (`pool_rules = false`) or a
/// pooling (`pool_rules = true`, which honours `ceil_mode`).
fn padding(node: &NodeProto, pool_rules: bool) -> TractResult<cnn::PaddingSpec> {
    let rank = node.get_attr_tvec::<usize>("kernel_shape").map(|k| k.len());
    let ceil_mode = node.get_attr_opt::<isize>("ceil_mode")?.unwrap_or(0) == 1;
    if let Some(pads) = node.get_attr_opt_tvec::<usize>("pads")? {
        let half = pads.len() / 2;
        let (before, after) = (pads[..half].into(), pads[half..].into());
        return Ok(if pool_rules {
            cnn::PaddingSpec::ExplicitOnnxPool(before, after, ceil_mode)
        } else {
            cnn::PaddingSpec::Explicit(before, after)
        });
    }
    Ok(
        match node.get_attr_opt::<&str>("auto_pad")?.unwrap_or("NOTSET") {
            "VALID" => cnn::PaddingSpec::Valid,
            "SAME_UPPER" => cnn::PaddingSpec::SameUpper,
            "SAME_LOWER" => cnn::PaddingSpec::SameLower,
            "NOTSET" => match rank {
                Ok(rank) if pool_rules => {
                    cnn::PaddingSpec::ExplicitOnnxPool(tvec!(0; rank), tvec!(0; rank), ceil_mode)
                }
                Ok(rank) => cnn::PaddingSpec::Explicit(tvec!(0; rank), tvec!(0; rank)),
                Err(_) => cnn::PaddingSpec::Valid,
            },
            other => bail!(
                "{}: auto_pad {other:?} is not an ONNX padding mode",
                node.name
            ),
        },
    )
}

fn conv(node: &NodeProto) -> TractResult<cnn::Conv> {
    let mut op = cnn::Conv::default().padding(padding(node, false)?);
    if let Some(kernel_shape) = node.get_attr_opt_tvec("kernel_shape")? {
        op = op.kernel_shape(kernel_shape);
    }
    if let Some(group) = node.get_attr_opt("group")? {
        op = op.group(group);
    }
    if let Some(dilations) = node.get_attr_opt_tvec("dilations")? {
        op = op.dilations(dilations);
    }
    if let Some(strides) = node.get_attr_opt_tvec("strides")? {
        op = op.strides(strides);
    }
    if node.input.len() == 3 {
        op = op.bias_input(2);
    }
    Ok(op)
}

fn max_pool(node: &NodeProto) -> TractResult<cnn::HirMaxPool> {
    if node.output.len() > 1 {
        bail!(
            "{}: MaxPool with an Indices output is not supported",
            node.name
        );
    }
    let pool_spec = cnn::PoolSpec::new(
        nn::DataFormat::NCHW,
        node.get_attr_tvec("kernel_shape")?,
        padding(node, true)?,
        node.get_attr_opt_tvec("dilations")?,
        node.get_attr_opt_tvec("strides")?,
        0,
        0,
    );
    Ok(cnn::HirMaxPool::new(pool_spec, None))
}

/// ONNX `Cast` to a float type, for the float16 weights: tract evaluates it once, on the
/// constant weights, when it analyses the model. tract-onnx's own `Cast` (which can also parse
/// strings) is built the same way: an element-wise operator evaluated without a session.
fn cast(_: &ParsingContext, node: &NodeProto) -> Built {
    Ok((cast_op(node)?.into_hir(), vec![]))
}

/// The typed operator of an ONNX `Cast` node (see [`cast`]).
pub fn cast_op(node: &NodeProto) -> TractResult<ElementWiseOp> {
    let to = node.get_attr::<DatumType>("to")?;
    if !to.is_float() {
        bail!(
            "{}: Cast to {to:?} is not supported (only to floats)",
            node.name
        );
    }
    Ok(ElementWiseOp(Box::new(CastTo(to)), None))
}

/// The element-wise cast [`cast`] builds.
#[derive(Debug, Clone)]
struct CastTo(DatumType);

impl ElementWiseMiniOp for CastTo {
    fn name(&self) -> String {
        "Cast".into()
    }

    fn output_type(&self, _input_type: DatumType) -> Option<DatumType> {
        Some(self.0)
    }

    fn eval_out_of_place(&self, t: &Tensor, _out_dt: Option<DatumType>) -> TractResult<Tensor> {
        Ok(t.cast_to_dt(self.0)?.into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::attribute::{int, ints};
    use tract_onnx::pb::{attribute_proto::AttributeType, AttributeProto, ModelProto};

    fn string(name: &str, value: &str) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            r#type: AttributeType::String as i32,
            s: value.as_bytes().to_vec(),
            ..Default::default()
        }
    }

    fn node(op: &str, inputs: usize, attributes: Vec<AttributeProto>) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            name: format!("test_{op}"),
            input: (0..inputs).map(|i| format!("in{i}")).collect(),
            output: vec!["out".into()],
            attribute: attributes,
            ..Default::default()
        }
    }

    fn pads(before: &[usize], after: &[usize]) -> (TVec<usize>, TVec<usize>) {
        (before.into(), after.into())
    }

    #[test]
    fn explicit_pads_split_into_before_and_after() {
        let conv = node(
            "Conv",
            2,
            vec![ints("kernel_shape", &[3, 3]), ints("pads", &[1, 2, 3, 4])],
        );
        let (before, after) = pads(&[1, 2], &[3, 4]);
        assert_eq!(
            padding(&conv, false).unwrap(),
            cnn::PaddingSpec::Explicit(before.clone(), after.clone())
        );
        assert_eq!(
            padding(&conv, true).unwrap(),
            cnn::PaddingSpec::ExplicitOnnxPool(before, after, false)
        );
    }

    #[test]
    fn every_auto_pad_mode() {
        let with = |mode: &str| {
            node(
                "Conv",
                2,
                vec![ints("kernel_shape", &[3, 3]), string("auto_pad", mode)],
            )
        };
        assert_eq!(
            padding(&with("VALID"), false).unwrap(),
            cnn::PaddingSpec::Valid
        );
        assert_eq!(
            padding(&with("SAME_UPPER"), false).unwrap(),
            cnn::PaddingSpec::SameUpper
        );
        assert_eq!(
            padding(&with("SAME_LOWER"), false).unwrap(),
            cnn::PaddingSpec::SameLower
        );
        let (zeros, _) = pads(&[0, 0], &[]);
        assert_eq!(
            padding(&with("NOTSET"), false).unwrap(),
            cnn::PaddingSpec::Explicit(zeros.clone(), zeros.clone())
        );
        assert_eq!(
            padding(&with("NOTSET"), true).unwrap(),
            cnn::PaddingSpec::ExplicitOnnxPool(zeros.clone(), zeros, false)
        );
        let err = padding(&with("SIDEWAYS"), false).unwrap_err().to_string();
        assert!(err.contains("SIDEWAYS"), "{err}");
        // No kernel shape to size the zero padding: valid, as tract does.
        let bare = node("Conv", 2, vec![]);
        assert_eq!(padding(&bare, false).unwrap(), cnn::PaddingSpec::Valid);
    }

    #[test]
    fn ceil_mode_reaches_pooling_only() {
        let pool = |ceil: i64| {
            node(
                "MaxPool",
                1,
                vec![
                    ints("kernel_shape", &[2, 2]),
                    ints("pads", &[0, 0, 1, 1]),
                    int("ceil_mode", ceil),
                ],
            )
        };
        let (before, after) = pads(&[0, 0], &[1, 1]);
        assert_eq!(
            padding(&pool(1), true).unwrap(),
            cnn::PaddingSpec::ExplicitOnnxPool(before.clone(), after.clone(), true)
        );
        assert_eq!(
            padding(&pool(0), true).unwrap(),
            cnn::PaddingSpec::ExplicitOnnxPool(before.clone(), after.clone(), false)
        );
        assert_eq!(
            padding(&pool(1), false).unwrap(),
            cnn::PaddingSpec::Explicit(before, after)
        );
    }

    #[test]
    fn supported_ops_is_exactly_what_register_installs() {
        let mut reg = OnnxOpRegister::default();
        register(&mut reg);
        let mut installed: Vec<&str> = reg.0.keys().map(String::as_str).collect();
        installed.sort_unstable();
        let mut listed = SUPPORTED_OPS.to_vec();
        listed.sort_unstable();
        assert_eq!(installed, listed);
    }

    /// Every case, built by this registry and by tract-onnx's full one, gives the same
    /// operator.
    #[test]
    fn each_parser_builds_what_tract_onnx_builds() {
        let cases = vec![
            node("Add", 2, vec![]),
            node("Relu", 1, vec![]),
            node("MatMul", 2, vec![]),
            node("GlobalAveragePool", 1, vec![]),
            node(
                "Conv",
                3,
                vec![ints("kernel_shape", &[3, 3]), ints("pads", &[1, 1, 1, 1])],
            ),
            node(
                "Conv",
                2,
                vec![
                    ints("kernel_shape", &[5, 5]),
                    string("auto_pad", "SAME_UPPER"),
                ],
            ),
            node(
                "Conv",
                3,
                vec![
                    ints("kernel_shape", &[3, 3]),
                    ints("strides", &[2, 2]),
                    ints("dilations", &[2, 2]),
                    int("group", 1),
                    string("auto_pad", "VALID"),
                ],
            ),
            node(
                "MaxPool",
                1,
                vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])],
            ),
            node(
                "MaxPool",
                1,
                vec![
                    ints("kernel_shape", &[3, 3]),
                    ints("pads", &[1, 1, 1, 1]),
                    int("ceil_mode", 1),
                ],
            ),
            node(
                "MaxPool",
                1,
                vec![
                    ints("kernel_shape", &[2, 2]),
                    string("auto_pad", "SAME_LOWER"),
                ],
            ),
            node("Flatten", 1, vec![]),
            node("Flatten", 1, vec![int("axis", 2)]),
            node("Reshape", 2, vec![]),
            node("Reshape", 2, vec![int("allowzero", 0)]),
        ];
        let mut ours = tract_onnx::Onnx::default();
        register(&mut ours.op_register);
        let theirs = tract_onnx::onnx();
        let model = ModelProto::default();
        let context = |framework| ParsingContext {
            onnx_operator_set_version: 13,
            framework,
            model: &model,
            parent_graphs: vec![],
            model_dir: None,
            template: InferenceModel::default(),
        };
        let (our_ctx, their_ctx) = (context(&ours), context(&theirs));
        for case in &cases {
            let build = |onnx: &tract_onnx::Onnx, ctx: &ParsingContext| {
                let builder = onnx.op_register.0[&case.op_type];
                let (op, extra) = builder(ctx, case).unwrap();
                format!("{op:?} {extra:?}")
            };
            assert_eq!(
                build(&ours, &our_ctx),
                build(&theirs, &their_ctx),
                "{} {:?}",
                case.op_type,
                case.attribute
            );
        }
    }

    #[test]
    fn unsupported_forms_are_refused_by_name() {
        let mut two_outputs = node("MaxPool", 1, vec![ints("kernel_shape", &[2, 2])]);
        two_outputs.output.push("indices".into());
        let model = ModelProto::default();
        let onnx = tract_onnx::Onnx::default();
        let ctx = ParsingContext {
            onnx_operator_set_version: 13,
            framework: &onnx,
            model: &model,
            parent_graphs: vec![],
            model_dir: None,
            template: InferenceModel::default(),
        };
        let err = (reg_with_ours().0["MaxPool"])(&ctx, &two_outputs)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("test_MaxPool") && err.contains("Indices"),
            "{err}"
        );
        let reg = reg_with_ours();
        let allow_zero = node("Reshape", 2, vec![int("allowzero", 1)]);
        let err = (reg.0["Reshape"])(&ctx, &allow_zero)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("allowzero"), "{err}");
        // Softmax is not registered: the files hold logits, and the probabilities are
        // computed from them with the model's temperature (crate::trust).
        assert!(!reg.0.contains_key("Softmax"));
        // The typed route (crate::onnx::typed) refuses it by node and name too.
        let softmax = node("Softmax", 1, vec![]);
        let err = expansion(&softmax).err().unwrap().to_string();
        assert!(
            err.contains("test_Softmax") && err.contains("Softmax is not supported"),
            "{err}"
        );
    }

    fn reg_with_ours() -> OnnxOpRegister {
        let mut reg = OnnxOpRegister::default();
        register(&mut reg);
        reg
    }
}
