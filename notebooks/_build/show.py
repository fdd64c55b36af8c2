import sys, nbformat
nb=nbformat.read(sys.argv[1],4)
for i,c in enumerate(nb.cells):
  if c.cell_type=='code':
    for o in c.outputs:
      if 'text' in o: print(i, o['text'][:2500])
      elif 'data' in o and 'text/plain' in o['data']: print(i, o['data']['text/plain'][:2500])
      elif 'data' in o: print(i, list(o['data']))
      if o.get('output_type')=='error': print(o['ename'], o['evalue'])
