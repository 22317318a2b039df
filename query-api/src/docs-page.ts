/**
 * A self-contained, readable page over /openapi.json (no CDN: the hub runs on closed networks).
 * It lists every operation by tag with its summary, description, parameters, body and responses.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MSISDN identity-risk hub API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:62rem;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}
.op{border:1px solid #ddd;border-radius:6px;margin:.6rem 0;padding:.4rem .8rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700;font-family:monospace}
.get{color:#0a6}.post{color:#06c}.put{color:#a60}.patch{color:#a0a}.delete{color:#c00}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f6f6f6;padding:.5rem;overflow:auto}
details summary{cursor:pointer}
</style></head><body>
<h1>MSISDN identity-risk hub API</h1>
<p>Generated from the route definitions; the machine-readable document is at <a href="/openapi.json">/openapi.json</a>.</p>
<div id="out">Loading…</div>
<script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{
  const byTag={};
  for(const [path,ops] of Object.entries(doc.paths||{}))for(const [method,op] of Object.entries(ops)){
    const tag=(op.tags&&op.tags[0])||'Other';(byTag[tag]=byTag[tag]||[]).push({path,method,op});}
  const esc=s=>String(s??'').replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));
  let html='';
  for(const tag of Object.keys(byTag).sort()){
    html+='<h2>'+esc(tag)+'</h2>';
    for(const {path,method,op} of byTag[tag]){
      html+='<div class="op"><details><summary><span class="m '+method+'">'+method.toUpperCase()+'</span> <code>'+esc(path)+'</code> — '+esc(op.summary)+'</summary>';
      if(op.description)html+='<p>'+esc(op.description)+'</p>';
      if(op.parameters&&op.parameters.length)html+='<p><b>Parameters</b></p><pre>'+esc(JSON.stringify(op.parameters,null,2))+'</pre>';
      if(op.requestBody)html+='<p><b>Body</b></p><pre>'+esc(JSON.stringify(op.requestBody.content,null,2))+'</pre>';
      html+='<p><b>Responses</b>: '+Object.entries(op.responses||{}).map(([k,v])=>esc(k)+' '+esc(v.description)).join('; ')+'</p></details></div>';
    }
  }
  document.getElementById('out').innerHTML=html;
});
</script></body></html>`;
