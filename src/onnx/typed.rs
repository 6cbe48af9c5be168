//! Builds tract's typed graph straight from an ONNX file of this project's operators.
//!
//! tract-onnx reads a file into an "inference model" first: a graph of operators with
//! partially known types and shapes, which a rule solver completes before each operator
//! wires its typed form ([`Expansion::wire`]). Our files are never partial: the input's shape
//! is given and every weight is a constant, so the typed graph can be wired node by node in
//! file order with the very same `wire` calls and no solver. In the browser that matters at
//! start-up: WebAssembly is compiled one function at a time on first call, and the solver is
//! a large body of code that ran exactly once per page load (measured in the README's page
//! section). The tests below check that both routes make the same plan and identical answers.
//!
//! The outline of [`typed_model`] (weights become constants, the other graph input a source,
//! then the nodes in file order) follows tract-onnx's `ParsingContext::parse_graph`
//! (tract-onnx 0.22, MIT OR Apache-2.0), minus what our files never hold (sub-graphs,
//! external data, partial shapes).

use std::collections::HashMap;

use tract_onnx::data_resolver::FopenDataResolver;
use tract_onnx::pb::{ModelProto, NodeProto};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::*;

/// The typed graph of `proto`, whose one non-constant input is fed values of `input`.
///
/// Fails, naming the node or value, on an operator outside [`super::ops::SUPPORTED_OPS`], a
/// value no node produces, or a file with more than one input.
pub fn typed_model(proto: &ModelProto, input: TypedFact) -> TractResult<TypedModel> {
    let graph = proto.graph.as_ref().context("the ONNX file has no graph")?;
    let weights: HashMap<&str, &tract_onnx::pb::TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let mut model = TypedModel::default();
    let mut outlets: HashMap<&str, OutletId> = HashMap::new();

    let mut sources = graph
        .input
        .iter()
        .filter(|i| !weights.contains_key(i.name.as_str()));
    let source = sources
        .next()
        .context("the ONNX graph has no input (expected one image input)")?;
    if let Some(extra) = sources.next() {
        bail!(
            "the ONNX graph has more than one input ({} and {}); expected one image input",
            source.name,
            extra.name
        );
    }
    outlets.insert(&source.name, model.add_source(&source.name, input)?);

    for node in &graph.node {
        let mut inputs: TVec<OutletId> = tvec!();
        for name in &node.input {
            let outlet = match outlets.get(name.as_str()) {
                Some(outlet) => *outlet,
                None => {
                    let proto = weights.get(name.as_str()).with_context(|| {
                        format!(
                            "{}: input {name:?} is neither a weight nor an earlier node's output",
                            node.name
                        )
                    })?;
                    let tensor = tract_onnx::tensor::load_tensor(&FopenDataResolver, proto, None)
                        .with_context(|| format!("weight {name:?}"))?;
                    let outlet = model.add_const(name.as_str(), tensor)?;
                    outlets.insert(name, outlet);
                    outlet
                }
            };
            inputs.push(outlet);
        }
        let wired = wire(node, &mut model, &inputs)
            .with_context(|| format!("{} ({})", node.name, node.op_type))?;
        if wired.len() < node.output.len() {
            bail!(
                "{}: {} outputs expected, {} wired",
                node.name,
                node.output.len(),
                wired.len()
            );
        }
        for (name, outlet) in node.output.iter().zip(wired) {
            outlets.insert(name, outlet);
        }
    }

    let outputs = graph
        .output
        .iter()
        .map(|o| {
            outlets
                .get(o.name.as_str())
                .copied()
                .with_context(|| format!("graph output {:?} is produced by no node", o.name))
        })
        .collect::<TractResult<Vec<_>>>()?;
    model.set_output_outlets(&outputs)?;
    Ok(model)
}

/// The plan the classifier runs: [`typed_model`], in the browser its convolutions replaced
/// by [`super::conv::DirectConv`] ([`Convolutions::FOR_THIS_TARGET`]), then tract's
/// optimizer (codegen), then the exact rewrites of [`super::plan`]. tract's decluttering
/// passes, which `into_optimized` runs first, are skipped: on the graphs our exporter writes,
/// the optimizer alone makes the same plan, node for node (tested with tract's
/// convolutions), and in the browser those passes took 17 ms of a cold start-up.
pub fn optimized_model(proto: &ModelProto, input: TypedFact) -> TractResult<TypedModel> {
    optimized_model_with(proto, input, Convolutions::FOR_THIS_TARGET)
}

/// Who computes a plan's convolutions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Convolutions {
    /// [`super::conv::DirectConv`], where it can: the page's plan.
    Direct,
    /// tract's own patch extraction and matrix product.
    Tract,
}

impl Convolutions {
    /// The classifier's choice: [`Convolutions::Direct`] in the browser, where it beats
    /// tract's wasm kernel; natively tract's, whose x86-64 and ARM kernels (fused
    /// multiply-adds, wide tiles) are far quicker than the portable form of ours (the
    /// trainer and the command line classify whole test sets).
    pub const FOR_THIS_TARGET: Self = if cfg!(target_arch = "wasm32") {
        Convolutions::Direct
    } else {
        Convolutions::Tract
    };
}

/// [`optimized_model`], with the convolutions computed by `convolutions`.
pub fn optimized_model_with(
    proto: &ModelProto,
    input: TypedFact,
    convolutions: Convolutions,
) -> TractResult<TypedModel> {
    let mut model = typed_model(proto, input)?;
    if convolutions == Convolutions::Direct {
        super::conv::replace_convolutions(&mut model)?;
    }
    model.optimize()?;
    super::plan::rewrite(&mut model)?;
    Ok(model)
}

/// Wires one node's typed operators; its outputs.
fn wire(
    node: &NodeProto,
    model: &mut TypedModel,
    inputs: &[OutletId],
) -> TractResult<TVec<OutletId>> {
    if node.op_type == "Cast" {
        return model.wire_node(&node.name, super::ops::cast_op(node)?, inputs);
    }
    super::ops::expansion(node)?.wire(&node.name, model, inputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::{GraphProto, ValueInfoProto};
    use tract_onnx::tract_hir::prelude::tract_ndarray::Array4;

    const MODEL: &[u8] = include_bytes!("../../model/digitnet.onnx");

    fn shipped() -> ModelProto {
        use prost::Message;
        let mut proto = ModelProto::decode(MODEL).unwrap();
        crate::onnx::inline_half_weights(&mut proto);
        proto
    }

    fn image_fact(batch: usize) -> TypedFact {
        f32::fact([batch, 1, 28, 28])
    }

    /// Deterministic images with ink-like values, some blank.
    fn images(batch: usize) -> Tensor {
        let mut state = 12345u32;
        let values = (0..batch * 784)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let v = (state >> 8) as f32 / (1 << 24) as f32;
                if v < 0.7 {
                    0.0
                } else {
                    v
                }
            })
            .collect();
        Array4::from_shape_vec((batch, 1, 28, 28), values)
            .unwrap()
            .into()
    }

    /// The plan of [`optimized_model`] with tract's convolutions, and tract-onnx's own route (inference model,
    /// analysis, declutter, optimize) on the same file.
    fn both_routes(batch: usize) -> (TypedModel, TypedModel) {
        let ours =
            optimized_model_with(&shipped(), image_fact(batch), Convolutions::Tract).unwrap();
        let theirs = crate::classifier::onnx_runtime()
            .model_for_proto_model(&shipped())
            .unwrap()
            .with_input_fact(0, image_fact(batch).into())
            .unwrap()
            .into_optimized()
            .unwrap();
        (ours, theirs)
    }

    /// Node for node, once both plans have had the same rewrites; the next test compares the
    /// answers with tract-onnx's plan as tract makes it.
    #[test]
    fn the_shipped_model_gets_the_plan_tract_onnx_makes() {
        let (ours, mut theirs) = both_routes(1);
        crate::onnx::plan::rewrite(&mut theirs).unwrap();
        let ops = |m: &TypedModel| -> Vec<String> {
            m.nodes()
                .iter()
                .map(|n| format!("{} {}", n.name, n.op.name()))
                .collect()
        };
        assert_eq!(ops(&ours), ops(&theirs));
    }

    #[test]
    fn the_shipped_model_answers_exactly_as_through_tract_onnx_analysis() {
        let batch = 8;
        let (ours, theirs) = both_routes(batch);
        let input = images(batch);
        let ours = ours
            .into_runnable()
            .unwrap()
            .run(tvec!(input.clone().into()))
            .unwrap();
        let theirs = theirs
            .into_runnable()
            .unwrap()
            .run(tvec!(input.into()))
            .unwrap();
        assert_eq!(ours.len(), theirs.len());
        assert!(ours.len() >= 2, "logits and features");
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a.shape(), b.shape());
            assert_eq!(a.as_slice::<f32>().unwrap(), b.as_slice::<f32>().unwrap());
        }
    }

    fn value(name: &str) -> ValueInfoProto {
        ValueInfoProto {
            name: name.into(),
            ..Default::default()
        }
    }

    fn one_node_graph(op: &str, input: &str) -> ModelProto {
        ModelProto {
            graph: Some(GraphProto {
                input: vec![value("image")],
                output: vec![value("out")],
                node: vec![NodeProto {
                    name: "the_node".into(),
                    op_type: op.into(),
                    input: vec![input.into()],
                    output: vec!["out".into()],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn an_unknown_operator_is_refused_by_node_and_name() {
        let err = typed_model(&one_node_graph("Softmax", "image"), image_fact(1)).unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("the_node"), "{message}");
        assert!(message.contains("Softmax"), "{message}");
    }

    #[test]
    fn a_value_nobody_makes_is_refused_by_name() {
        let err = typed_model(&one_node_graph("Relu", "ghost"), image_fact(1)).unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("ghost"), "{message}");
        assert!(typed_model(&ModelProto::default(), image_fact(1)).is_err());
    }

    #[test]
    fn a_one_operator_graph_computes() {
        let model = typed_model(&one_node_graph("Relu", "image"), image_fact(1))
            .unwrap()
            .into_runnable()
            .unwrap();
        let input = images(1);
        let out = model.run(tvec!(input.clone().into())).unwrap();
        let expected: Vec<f32> = input.as_slice::<f32>().unwrap().to_vec();
        assert_eq!(out[0].as_slice::<f32>().unwrap(), expected.as_slice());
    }
}
