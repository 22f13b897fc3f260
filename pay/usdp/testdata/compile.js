// Compiles TestToken.sol with the solc npm package pinned in package.json
// (its compiler ships inside the package: no download) and writes
// TestToken.abi and TestToken.bin. Same source, same compiler, same settings:
// same bytes, so the committed files can be checked against the source.
//   cd pay/usdp/testdata && npm ci && node compile.js [--check]
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const dir = __dirname;
const input = {
  language: 'Solidity',
  sources: { 'TestToken.sol': { content: fs.readFileSync(path.join(dir, 'TestToken.sol'), 'utf8') } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === 'error');
if (errors.length > 0) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const c = out.contracts['TestToken.sol'].TestToken;
const files = {
  'TestToken.abi': JSON.stringify(c.abi, null, 1) + '\n',
  'TestToken.bin': c.evm.bytecode.object + '\n',
};
const check = process.argv.includes('--check');
let stale = false;
for (const [name, text] of Object.entries(files)) {
  const p = path.join(dir, name);
  if (check) {
    const have = fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
    if (have !== text) {
      console.error(name + ' differs from what solc ' + solc.version() + ' makes of TestToken.sol; run node compile.js');
      stale = true;
    }
  } else {
    fs.writeFileSync(p, text);
  }
}
console.log('solc ' + solc.version() + (check ? (stale ? ': stale' : ': up to date') : ': wrote TestToken.abi, TestToken.bin'));
process.exit(stale ? 1 : 0);
