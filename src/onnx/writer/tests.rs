//! Tests of [`super`] (`src/onnx/writer.rs`).

use super::*;

fn dense(inputs: usize, outputs: usize) -> OnnxLayer {
    OnnxLayer::Dense {
        weight: vec![0.0; inputs * outputs],
        bias: vec![0.0; outputs],
        inputs,
        outputs,
    }
}

#[test]
fn layers_must_end_with_the_ten_way_dense_layer() {
    let no_logits = [OnnxLayer::Flatten, dense(784, 10), OnnxLayer::Relu];
    assert!(matches!(
        encode(&no_logits, &[], ""),
        Err(EncodeError::NoLogits(found)) if found == "Relu"
    ));
    let wrong_width = [OnnxLayer::Flatten, dense(784, 7)];
    assert!(encode(&wrong_width, &[], "").is_err());
    assert!(encode(&[], &[], "").is_err());
}

#[test]
fn the_last_dense_layer_produces_the_logits_output() {
    let bytes = encode(&[OnnxLayer::Flatten, dense(784, 10)], &[], "").unwrap();
    let model = ModelProto::decode(bytes.as_slice()).unwrap();
    let graph = model.graph.unwrap();
    let produced: Vec<&str> = graph
        .node
        .iter()
        .flat_map(|n| n.output.iter().map(String::as_str))
        .collect();
    assert!(produced.contains(&LOGITS_NAME));
    assert!(produced.contains(&FEATURES_NAME));
    let outputs: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outputs, [LOGITS_NAME, FEATURES_NAME]);
    assert!(graph.node.iter().all(|n| n.op_type != "Softmax"));
}

#[test]
fn weights_stored_as_f16_compute_what_f32_weights_rounded_to_f16_compute() {
    use crate::classifier::Classifier;
    use crate::digit::{DigitImage, PIXELS};
    // One dense layer over the flattened image, with weights that f16 cannot hold exactly.
    let weight: Vec<f32> = (0..PIXELS * CLASSES)
        .map(|i| ((i * 7919) % 1000) as f32 / 997.0 - 0.5)
        .collect();
    let layers = |weight: Vec<f32>| {
        [
            OnnxLayer::Flatten,
            OnnxLayer::Dense {
                weight,
                bias: (0..CLASSES).map(|i| i as f32 * 0.1001).collect(),
                inputs: PIXELS,
                outputs: CLASSES,
            },
        ]
    };
    let mut half =
        ModelProto::decode(encode(&layers(weight.clone()), &[], "").unwrap().as_slice()).unwrap();
    assert_eq!(store_weights_as_f16(&mut half), 2);
    assert_eq!(store_weights_as_f16(&mut half), 0, "twice is once");
    let half = half.encode_to_vec();
    let rounded: Vec<f32> = weight
        .iter()
        .map(|&v| tract_onnx::prelude::f16::from_f32(v).to_f32())
        .collect();
    let mut rounded_layers = layers(rounded);
    if let OnnxLayer::Dense { bias, .. } = &mut rounded_layers[1] {
        bias.iter_mut()
            .for_each(|b| *b = tract_onnx::prelude::f16::from_f32(*b).to_f32());
    }
    let reference = encode(&rounded_layers, &[], "").unwrap();
    let mut image = DigitImage::default();
    image
        .pixels_mut()
        .iter_mut()
        .enumerate()
        .for_each(|(i, p)| *p = (i % 5) as f32 / 4.0);
    let a = Classifier::from_onnx(&half, 1)
        .unwrap()
        .classify(&image)
        .unwrap();
    let b = Classifier::from_onnx(&reference, 1)
        .unwrap()
        .classify(&image)
        .unwrap();
    for (x, y) in a.logits.iter().zip(&b.logits) {
        assert!((x - y).abs() < 1e-3, "{:?} vs {:?}", a.logits, b.logits);
    }
    assert!(half.len() < reference.len() * 6 / 10);
    // What the classifier loads: the casts gone, float32 weights under their own names.
    let mut inlined = ModelProto::decode(half.as_slice()).unwrap();
    assert_eq!(crate::onnx::inline_half_weights(&mut inlined), 2);
    let graph = inlined.graph.as_ref().unwrap();
    assert!(graph.node.iter().all(|n| n.op_type != "Cast"));
    let names: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["l1_weight", "l1_bias"]);
    assert!(graph
        .initializer
        .iter()
        .all(|t| t.data_type == DataType::Float as i32));
}

#[test]
fn an_older_file_gets_the_outputs_it_would_have_been_written_with() {
    let layers = [OnnxLayer::GlobalAvgPool, dense(3, 10)];
    let current = ModelProto::decode(encode(&layers, &[], "").unwrap().as_slice()).unwrap();
    // An older file: no `features` output, the tensor under its old name, a softmax
    // `probabilities` output.
    let mut older = current.clone();
    let graph = older.graph.as_mut().unwrap();
    graph.output.pop();
    for node in &mut graph.node {
        for name in node.input.iter_mut().chain(node.output.iter_mut()) {
            if name == FEATURES_NAME {
                *name = "l0_out".into();
            }
        }
    }
    graph.node.push(NodeProto {
        op_type: "Softmax".into(),
        input: vec![LOGITS_NAME.into()],
        output: vec![PROBABILITIES_NAME.into()],
        ..Default::default()
    });
    graph
        .output
        .push(value_info(PROBABILITIES_NAME, &[None, Some(CLASSES)]));
    graph.doc_string = "old".into();
    upgrade_outputs(&mut older).unwrap();
    assert_eq!(older, current);
    // Twice is once.
    upgrade_outputs(&mut older).unwrap();
    assert_eq!(older, current);
    // A graph without the dense head is refused with a reason.
    let mut headless = current.clone();
    headless.graph.as_mut().unwrap().output.pop();
    headless
        .graph
        .as_mut()
        .unwrap()
        .node
        .retain(|n| n.op_type != "Add");
    assert!(upgrade_outputs(&mut headless).is_err());
}
