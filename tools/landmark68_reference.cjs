// Reference output of face-api.js's 68-point landmark net (TensorFlow.js, CPU backend) on one
// 112x112 RGB input, for the parity test of core/src/nn/landmark68.rs.
//
// Usage, in a folder where `npm install @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0`
// was run and `face-api.node-wasm.js` was copied from the @vladmandic/face-api 1.7.15 package:
//
//   node tools/landmark68_reference.cjs FACEAPI_PACKAGE INPUT.rgb > out.json
//
// INPUT.rgb holds the 112*112*3 bytes of the input, row-major RGB. Prints the 136 outputs
// (x0, y0, x1, y1, ... in 0..1 of the input).
const path = require('path');
const fs = require('fs');
const faceapi = require(path.resolve('face-api.node-wasm.js'));

(async () => {
  const [pkg, input] = process.argv.slice(2);
  const tf = faceapi.tf;
  await tf.setBackend('cpu');
  await tf.ready();
  const stem = path.join(pkg, 'model', 'face_landmark_68_model');
  const manifest = JSON.parse(fs.readFileSync(`${stem}-weights_manifest.json`));
  const bin = fs.readFileSync(`${stem}.bin`);
  const buffer = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  const weights = tf.io.decodeWeights(buffer, manifest.flatMap((g) => g.weights));
  faceapi.nets.faceLandmark68Net.loadFromWeightMap(weights);
  const pixels = new Int32Array(fs.readFileSync(input));
  const out = await faceapi.nets.faceLandmark68Net.forward(tf.tensor3d(pixels, [112, 112, 3], 'int32'));
  process.stdout.write(JSON.stringify(Array.from(out.dataSync())) + '\n');
})();
