// The side-by-side of `stampcard-bench --passes N`: passkit-generator (Node,
// installed from the npm registry into a scratch folder by the bench, never
// committed) builds the same signed pass from the same pass.json, images
// and test certificates, N times on Node's one thread.
//
// node passkit-generator.mjs <install dir> <inputs dir> <n> <output.pkpass>
// <inputs dir> holds pass/ (pass.json and the images) and the PEM files.
import { createRequire } from "node:module";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [installDir, inputs, count, output] = process.argv.slice(2);
const require = createRequire(join(installDir, "package.json"));
const { PKPass } = require("passkit-generator");

const passDir = join(inputs, "pass");
const buffers = {};
for (const name of readdirSync(passDir)) {
	buffers[name] = readFileSync(join(passDir, name));
}
const certificates = {
	wwdr: readFileSync(join(inputs, "wwdr.pem")),
	signerCert: readFileSync(join(inputs, "cert.pem")),
	signerKey: readFileSync(join(inputs, "key.pem")),
};

const n = Number(count);
// One pass first (and kept, for a look), as the Rust side does.
let bytes = new PKPass(buffers, certificates).getAsBuffer();
writeFileSync(output, bytes);
const started = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
	bytes = new PKPass(buffers, certificates).getAsBuffer();
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({ passes_per_s: n / seconds, bytes: bytes.length }));
