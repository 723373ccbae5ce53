import re,sys,collections
exports=set(open('cuda.exports').read().split())
vers=collections.defaultdict(set); pt=collections.defaultdict(dict)
for path in sys.argv[1:]:
    src=open(path).read()
    src=re.sub(r'/\*.*?\*/', ' ', src, flags=re.S)
    for m in re.finditer(r'\*\s*PFN_(\w+?)_v(\d+)(_ptds|_ptsz)?\s*\)', src):
        b,v,s=m.group(1),int(m.group(2)),m.group(3)
        if s: pt[b][v]=s
        else: vers[b].add(v)
bad=0
for b in sorted(set(vers)|set(pt)):
    vs=sorted(vers[b])
    names={}
    for i,v in enumerate(vs):
        names[v]=b if i==0 else '%s_v%d'%(b,i+1)
    out=[]
    for v in vs:
        n=names[v]; ok=n in exports; out.append('%d:%s%s'%(v,n,'' if ok else '!!')); bad+= not ok
    for v,s in sorted(pt[b].items()):
        base=[names[x] for x in vs if x<=v]
        n=(base[-1] if base else b)+s
        ok=n in exports; out.append('%d%s:%s%s'%(v,s,n,'' if ok else '!!')); bad+= not ok
    print(b,' '.join(out))
print('bad',bad,file=sys.stderr)
