import { goQuote } from "@viper/shared/protocol";
import { goQuote as oldQuote } from "./go-json-old.ts";
const alphabet = ['a','"','\\','<','>','&','\n','\r','\t','\b','\f','\u0000','\u0001','\u001f','\u007f','\u2028','\u2029','é','😀','\ud800','\udc00','/','{','}',' ','1','x'];
let bad = 0;
for (let i = 0; i < 200000; i++) {
  let s = ''; const n = Math.floor(Math.random() * 12);
  for (let j = 0; j < n; j++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  if (goQuote(s) !== oldQuote(s)) { bad++; if (bad < 5) console.log(JSON.stringify(s), goQuote(s), oldQuote(s)); }
}
const body = JSON.stringify(Array.from({length:100},(_, i)=>({jsonrpc:"2.0",id:i,method:"eth_blockNumber",params:[]})));
console.log("mismatches", bad, goQuote(body) === oldQuote(body));
let t = performance.now(); for (let i = 0; i < 2000; i++) oldQuote(body); console.log("old us", (performance.now()-t)*1000/2000);
t = performance.now(); for (let i = 0; i < 2000; i++) goQuote(body); console.log("new us", (performance.now()-t)*1000/2000);
const one = '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}';
t = performance.now(); for (let i = 0; i < 100000; i++) oldQuote(one); console.log("old 1 us", (performance.now()-t)*1000/100000);
t = performance.now(); for (let i = 0; i < 100000; i++) goQuote(one); console.log("new 1 us", (performance.now()-t)*1000/100000);
