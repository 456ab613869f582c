/// The page assets written as text: one stylesheet (light and dark) and the SVG logo (the
/// script: PageScript.swift).
enum Stylesheet {
    static let css = """
    :root{color-scheme:light dark;--bg:#f5f7f9;--fg:#18212b;--muted:#5f6b7a;--card:#fff;--line:#e3e7ec;
    --head:#eef1f5;--accent:#0a6b7c;--accent-strong:#075563;--on-accent:#fff;--hover:#f0f7f8;--badge:#dff1f3;
    --badge-fg:#075563;--code:#eef1f5;--top:#0b4f5c;--shadow:0 1px 2px rgba(16,24,40,.06),0 1px 3px rgba(16,24,40,.08)}
    @media (prefers-color-scheme:dark){:root{--bg:#0e1318;--fg:#e5e9ee;--muted:#97a3b2;--card:#151b22;--line:#252e39;
    --head:#1a222c;--accent:#5cc0d0;--accent-strong:#86d3df;--on-accent:#05161a;--hover:#18262d;--badge:#123a40;
    --badge-fg:#a8e6ee;--code:#1c2530;--top:#0a2f37;--shadow:none}}
    *{box-sizing:border-box}
    html{-webkit-text-size-adjust:100%}
    body{margin:0;font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,sans-serif;
    color:var(--fg);background:var(--bg)}
    a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline;color:var(--accent-strong)}
    code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
    svg.defs{display:none}
    .icon{width:16px;height:16px;vertical-align:-3px;margin-right:.55rem;flex:none}
    .i-folder{color:#d99a1e}.i-file{color:var(--muted)}.i-bucket,.i-data{color:var(--accent)}
    header.top{display:flex;align-items:center;justify-content:space-between;gap:1rem;padding:.7rem 1.5rem;
    background:var(--top);color:#fff}
    header.top .brand{display:flex;align-items:center;gap:.55rem;color:#fff;font-weight:650;font-size:1.05rem;letter-spacing:.02em}
    header.top .brand:hover{text-decoration:none;opacity:.9}
    header.top .host{color:#cfe6ea;font-size:.85rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
    main{max-width:78rem;margin:0 auto;padding:1.25rem 1.5rem 2rem}
    h1{font-size:1.6rem;line-height:1.25;margin:.2rem 0 1rem;font-weight:650;overflow-wrap:anywhere}
    nav.crumbs{font-size:.93rem;color:var(--muted);overflow-wrap:anywhere}
    nav.crumbs .sep{margin:0 .45rem;color:var(--line);color:color-mix(in srgb,var(--muted) 55%,transparent)}
    nav.crumbs [aria-current]{color:var(--fg);font-weight:600}
    dl.urls{display:grid;grid-template-columns:max-content 1fr;gap:.35rem .8rem;margin:0 0 1rem;align-items:center}
    dl.urls>div{display:contents}
    dl.urls dt{font-size:.75rem;font-weight:700;letter-spacing:.06em;color:var(--muted)}
    dl.urls dd{margin:0;display:flex;gap:.5rem;align-items:center;min-width:0}
    dl.urls code{background:var(--code);padding:.25rem .5rem;border-radius:6px;user-select:all;overflow-wrap:anywhere;min-width:0}
    button.copy{font:inherit;font-size:.78rem;padding:.2rem .6rem;border:1px solid var(--line);border-radius:6px;
    background:var(--card);color:var(--fg);cursor:pointer}
    button.copy:hover{border-color:var(--accent);color:var(--accent)}
    .summary{color:var(--muted);font-size:.9rem;margin:.25rem 0 .5rem}
    table.listing{width:100%;border-collapse:separate;border-spacing:0;background:var(--card);border:1px solid var(--line);
    border-radius:10px;overflow:hidden;box-shadow:var(--shadow)}
    table.listing th,table.listing td{padding:.5rem .9rem;text-align:left;border-bottom:1px solid var(--line);vertical-align:middle}
    table.listing tbody tr:last-child td{border-bottom:0}
    table.listing th{background:var(--head);font-size:.78rem;font-weight:650;letter-spacing:.04em;text-transform:uppercase;color:var(--muted)}
    table.listing tbody tr:hover td{background:var(--hover)}
    td.name{overflow-wrap:anywhere}td.name a{font-weight:500}
    table.listing .size{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;width:7.5rem}
    table.listing .date{white-space:nowrap;font-variant-numeric:tabular-nums;color:var(--muted);width:11.5rem}
    table.listing .dl{width:2.5rem;text-align:center}td.dl .icon{margin:0}td.dl a{color:var(--muted)}td.dl a:hover{color:var(--accent)}
    tr.up td{font-size:.9rem}tr.up .muted{color:var(--muted);margin-left:.25rem}
    tr.empty td{color:var(--muted);font-style:italic;text-align:center;padding:1.5rem}
    .kind,.badge{display:inline-block;font-size:.72rem;font-weight:650;padding:.05rem .5rem;border-radius:999px;
    background:var(--badge);color:var(--badge-fg);vertical-align:1px}
    .badge{margin-left:.4rem}
    section.dataset{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--accent);border-radius:10px;
    padding:1rem 1.2rem;margin:0 0 1rem;box-shadow:var(--shadow)}
    .ds-title{display:flex;align-items:center;font-size:1.05rem}
    dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:.6rem 1.5rem;margin:.8rem 0}
    dl.facts dt{font-size:.72rem;font-weight:700;letter-spacing:.06em;text-transform:uppercase;color:var(--muted)}
    dl.facts dd{margin:.1rem 0 0;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
    .actions{display:flex;flex-wrap:wrap;gap:.6rem;margin:.4rem 0 0}
    .btn{display:inline-block;padding:.42rem .9rem;border-radius:8px;border:1px solid var(--line);background:var(--card);
    color:var(--fg);font-weight:550;font-size:.9rem}
    a.btn:hover{text-decoration:none;border-color:var(--accent);color:var(--accent)}
    .btn.primary{background:var(--accent);border-color:var(--accent);color:var(--on-accent)}
    a.btn.primary:hover{background:var(--accent-strong);color:var(--on-accent)}
    .btn.disabled{color:var(--muted);opacity:.55}
    nav.pager{display:flex;align-items:center;gap:.6rem;margin:1rem 0;flex-wrap:wrap}
    nav.pager .pageno{color:var(--muted);font-size:.9rem;margin:0 .4rem}
    nav.pager .next{margin-left:auto}
    .pager-top nav.pager{margin:.25rem 0 .75rem}
    .empty{color:var(--muted)}
    footer{max-width:78rem;margin:0 auto;padding:0 1.5rem 2rem;color:var(--muted);font-size:.82rem}
    footer code{font-size:.8rem}
    .sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
    table.listing .kind-col{width:8rem}
    button.copy.mini{font-size:.7rem;padding:0 .4rem;margin-left:.5rem;vertical-align:1px;opacity:.55}
    tr.file:hover button.mini,button.mini:focus{opacity:1}
    main.error .status{color:var(--muted);font-weight:600;margin:.5rem 0 .2rem}
    .badge.err{margin:0 .3rem 0 0;background:#fbe4e2;color:#8a1c12}
    @media (prefers-color-scheme:dark){.badge.err{background:#4a1d19;color:#f6c3bd}}
    main.error dl.facts code{overflow-wrap:anywhere}
    main.error .actions .icon{margin-right:.4rem}
    main.error .hint{max-width:46rem;margin:.4rem 0 1rem}
    .find-bar{display:flex;flex-wrap:wrap;gap:.6rem 1.5rem;align-items:center;margin:.2rem 0 .6rem}
    .find-bar form,.find-bar .filter{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap}
    .find-bar .filter[hidden]{display:none}
    .find-bar label{font-size:.78rem;font-weight:700;letter-spacing:.04em;color:var(--muted)}
    .find-bar input{font:inherit;font-size:.9rem;padding:.32rem .6rem;border:1px solid var(--line);border-radius:8px;
    background:var(--card);color:var(--fg);width:14rem;max-width:60vw}
    .find-bar input:focus,button.sort:focus-visible,.btn:focus-visible{outline:2px solid var(--accent);outline-offset:1px}
    .find-bar button.btn{cursor:pointer;font:inherit;font-size:.9rem;padding:.32rem .9rem}
    button.sort{font:inherit;letter-spacing:inherit;text-transform:inherit;color:inherit;background:none;border:0;padding:0;cursor:pointer}
    button.sort::after{content:"";display:inline-block;width:1em;margin-left:.2rem}
    th[aria-sort=ascending] button.sort::after{content:"▲"}th[aria-sort=descending] button.sort::after{content:"▼"}
    th[aria-sort] button.sort:hover{color:var(--accent)}
    table.listing .dl{width:4.2rem;white-space:nowrap}td.dl a+a{margin-left:.5rem}
    main.preview-page h1 .icon{width:22px;height:22px;vertical-align:-4px}
    dl.file-facts{margin:.2rem 0 1rem}
    main.preview-page .actions{margin:0 0 1rem}main.preview-page .actions .icon{margin-right:.4rem}
    .note{color:var(--muted);background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.7rem 1rem}
    pre.preview{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1rem 1.2rem;overflow:auto;
    max-height:75vh;margin:0;box-shadow:var(--shadow)}
    pre.preview code{white-space:pre-wrap;overflow-wrap:anywhere}
    pre.json .k{color:#7a3e9d}pre.json .s{color:#2b7a3d}pre.json .n{color:#b35c00}pre.json .l{color:#0a6b7c;font-weight:600}
    @media (prefers-color-scheme:dark){pre.json .k{color:#d2a8ff}pre.json .s{color:#8fd19e}pre.json .n{color:#f0b072}pre.json .l{color:#5cc0d0}}
    article.markdown{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.6rem 1.6rem 1rem;
    box-shadow:var(--shadow);overflow-wrap:anywhere}
    article.markdown pre{background:var(--code);padding:.7rem 1rem;border-radius:8px;overflow:auto}
    article.markdown :not(pre)>code{background:var(--code);padding:.05rem .3rem;border-radius:4px}
    article.markdown blockquote{margin:.8rem 0;padding:.1rem 1rem;border-left:3px solid var(--line);color:var(--muted)}
    article.markdown img{max-width:100%}
    .table-wrap{overflow:auto;max-height:75vh;width:fit-content;max-width:100%;border:1px solid var(--line);border-radius:10px;background:var(--card);box-shadow:var(--shadow)}
    table.grid{border-collapse:collapse;font-size:.88rem;font-variant-numeric:tabular-nums}
    table.grid th,table.grid td{border-bottom:1px solid var(--line);border-right:1px solid var(--line);padding:.3rem .7rem;
    text-align:left;white-space:pre-wrap;vertical-align:top}
    table.grid th{background:var(--head);position:sticky;top:0}
    figure.image{margin:0;padding:1rem;background:var(--card);border:1px solid var(--line);border-radius:10px;text-align:center;
    background-image:conic-gradient(var(--head) 25%,transparent 0 50%,var(--head) 0 75%,transparent 0);background-size:20px 20px}
    figure.image img{max-width:100%;height:auto}
    @media (max-width:640px){main{padding:1rem}table.listing .date{display:none}table.listing .size{width:auto}}
    """

    static let logo = """
    <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1593a8"/>\
    <g fill="none" stroke="#fff" stroke-width="2.2"><ellipse cx="16" cy="9.5" rx="8.5" ry="3.2"/>\
    <path d="M7.5 9.5v13c0 1.8 3.8 3.2 8.5 3.2s8.5-1.4 8.5-3.2v-13M7.5 16c0 1.8 3.8 3.2 8.5 3.2s8.5-1.4 8.5-3.2"/></g></svg>
    """
}
