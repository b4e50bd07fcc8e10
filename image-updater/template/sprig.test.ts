/** Sprig functions, with the outputs Sprig's own tests and docs give. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoFloat, TemplateError, makeStruct, renderTemplate } from './index.ts';

const img = makeStruct('update.imageRef', {}, { string: () => 'nginx:1.2' });
const data = { nothing: null, value: null, V: ['a', 'b', 'c'], ints: [1, 2, 3], str: 'abc', img, f: new GoFloat(2.5) };

function check(cases: Record<string, string>): void {
  for (const [tpl, want] of Object.entries(cases)) {
    assert.equal(renderTemplate(tpl, data), want, tpl);
  }
}

test('strings', () => {
  check({
    '{{"fooo" | substr 0 3 }}': 'foo',
    '{{"foo" | substr 0 10 }}': 'foo',
    '{{ "foooooo" | trunc 3 }}': 'foo',
    '{{ "baaaaaar" | trunc -3 }}': 'aar',
    '{{ "baaaaaar" | trunc -999 }}': 'baaaaaar',
    '{{ "baaaaaz" | trunc 0 }}': '',
    '{{quote "a" "b" "c"}}': '"a" "b" "c"',
    '{{quote "\\"a\\"" "b" "c"}}': '"\\"a\\"" "b" "c"',
    '{{quote 1 2 3 }}': '"1" "2" "3"',
    '{{ .value | quote }}': '',
    '{{squote "a" "b" "c"}}': "'a' 'b' 'c'",
    '{{squote 1 2 3 }}': "'1' '2' '3'",
    '{{ .value | squote }}': '',
    '{{if contains "cat" "fair catch"}}1{{end}}': '1',
    '{{if hasPrefix "cat" "catch"}}1{{end}}': '1',
    '{{if hasSuffix "cat" "ducat"}}1{{end}}': '1',
    '{{trim "   5.00   "}}': '5.00',
    '{{trimAll "$" "$5.00$"}}': '5.00',
    '{{trimPrefix "$" "$5.00"}}': '5.00',
    '{{trimSuffix "$" "5.00$"}}': '5.00',
    '{{$v := "foo$bar$baz" | split "$"}}{{$v._0}}': 'foo',
    '{{$v := "foo$bar$baz" | splitn "$" 2}}{{$v._1}}': 'bar$baz',
    '{{ "a,b,c" | splitList "," }}': '[a b c]',
    '{{ tuple "a" "b" "c" | join "-" }}': 'a-b-c',
    '{{ tuple 1 2 3 | join "-" }}': '1-2-3',
    '{{ join "-" .V }}': 'a-b-c',
    '{{ join "-" .str }}': 'abc',
    '{{ join "-" (list "1" .nothing "2") }}': '1-2',
    '{{ list "c" "a" "b" | sortAlpha | join "" }}': 'abc',
    '{{ list 2 1 4 3 | sortAlpha | join "" }}': '1234',
    '{{b64enc "coffee"}}': 'Y29mZmVl',
    '{{b64dec "Y29mZmVl"}}': 'coffee',
    '{{b64dec "!!"}}': 'illegal base64 data at input byte 0',
    '{{b32enc "coffee"}}': 'MNXWMZTFMU======',
    '{{b32dec "MNXWMZTFMU======"}}': 'coffee',
    '{{abbrev 5 "hello world"}}': 'he...',
    '{{abbrev 20 "hello world"}}': 'hello world',
    '{{nospace "h e l l o "}}': 'hello',
    '{{untitle "First Try"}}': 'first try',
    '{{initials "First Try"}}': 'FT',
    '{{ title "hello world-foo_bar" }}': 'Hello World-Foo_bar',
    '{{ upper "abc" }} {{ lower "ÀB" }}': 'ABC àb',
    '{{$b := "b"}}{{"c" | cat "a" $b}}': 'a b c',
    '{{ .value | cat "a" "b"}}': 'a b',
    '{{indent 4 "a\\nb\\nc"}}': '    a\n    b\n    c',
    '{{nindent 4 "a\\nb\\nc"}}': '\n    a\n    b\n    c',
    '{{"I Am Henry VIII" | replace " " "-"}}': 'I-Am-Henry-VIII',
    '{{$num := len "two"}}{{$num}} {{$num | plural "1 char" "chars"}}': '3 chars',
    '{{len "t" | plural "cheese" "%d chars"}}': 'cheese',
    '{{ repeat 3 "ab" }}': 'ababab',
    '{{ "ab" | repeat 2 }}': 'abab',
    '{{ toString 5 }} {{ toString .img }} {{ toString (list 1 "a") }}': '5 nginx:1.2 [1 a]',
    '{{ list 1 .value 2 | toStrings }}': '[1 2]',
  });
});

test('hashes and checksums', () => {
  check({
    '{{ sha256sum "abc" }}': 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    '{{ sha1sum "abc" }}': 'a9993e364706816aba3e25717850c26c9cd0d89d',
    '{{ adler32sum "abc" }}': '38600999',
  });
});

test('regular expressions use Go syntax and semantics', () => {
  check({
    '{{ regexMatch "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\\\.[A-Za-z]{2,}" "test@acme.com" }}': 'true',
    '{{ regexMatch "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\\\.[A-Za-z]{2,}" "test@acme" }}': 'false',
    '{{ regexMatch "(" "x" }}': 'false',
    '{{ regexFindAll "a{2}" "aa" -1 | len }}': '1',
    '{{ regexFindAll "a{2}" "aaaaaaaa" 1 | len }}': '1',
    '{{ regexFindAll "a{2}" "aaaa" -1 | len }}': '2',
    '{{ regexFindAll "a{2}" "none" -1 }}': '[]',
    '{{ regexFindAll "a*" "baaac" -1 }}': '[ aaa ]',
    '{{ regexFind "fo.?" "foorbar" }}': 'foo',
    '{{ regexFind "fo.?" "none" }}': '',
    '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "T" }}': '-T-T-',
    '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "$1" }}': '--xx-',
    '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "$1W" }}': '---',
    '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}': '-W-xxW-',
    '{{ regexReplaceAll "(?P<ts>[0-9]+)" "build-42" "<$ts><$$>" }}': 'build-<42><$>',
    '{{ regexReplaceAll "a*" "baaac" "X" }}': 'XbXcX',
    '{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "$1" }}': '-$1-$1-',
    '{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }}': '-${1}-${1}-',
    '{{ regexSplit "a" "banana" -1 | len }}': '4',
    '{{ regexSplit "a" "banana" 0 | len }}': '0',
    '{{ regexSplit "a" "banana" 1 | len }}': '1',
    '{{ regexSplit "a" "banana" 2 }}': '[b nana]',
    '{{ regexSplit "z+" "pizza" -1 }}': '[pi a]',
    '{{ regexQuoteMeta "1.2.3" }}': '1\\.2\\.3',
    '{{ regexFind "^master-[a-f0-9]+-(?P<ts>[0-9]+)" "master-abc-2" }}': 'master-abc-2',
  });
  assert.throws(() => renderTemplate('{{ regexFind "(" "x" }}', {}), /error calling regexFind: error parsing regexp/);
});

test('defaults, emptiness and JSON', () => {
  check({
    '{{ default "foo" .nothing }}': 'foo',
    '{{ .missing | default "x" }}': 'x',
    '{{ "" | default "x" }} {{ 0 | default 5 }} {{ "a" | default "x" }} {{ default "d" }}': 'x 5 a d',
    '{{ empty .nothing }} {{ empty (list) }} {{ empty (dict) }} {{ empty 0 }} {{ empty "a" }} {{ empty .img }}':
      'true true true true false false',
    '{{ coalesce "" 0 .nothing "x" }} {{ coalesce "" 0 }}': 'x <no value>',
    '{{ ternary "y" "n" true }} {{ false | ternary "y" "n" }}': 'y n',
    '{{ all 1 "a" }} {{ all 1 "" }} {{ any 0 "" }} {{ any 0 "x" }}': 'true false false true',
    '{{ dict "b" 1 "a" "<x>" | toJson }}': '{"a":"\\u003cx\\u003e","b":1}',
    '{{ dict "b" 1 "a" "<x>" | toRawJson }}': '{"a":"<x>","b":1}',
    '{{ list 1 (dict "a" 2) (list) | toPrettyJson }}': '[\n  1,\n  {\n    "a": 2\n  },\n  []\n]',
    '{{ toJson .f }} {{ toJson 1e21 }} {{ toJson 0.0000001 }} {{ toJson .nothing }} {{ toJson "é\\n" }}': '2.5 1e+21 1e-7 null "é\\n"',
    '{{ toJson .img }}': '{}',
  });
});

test('numbers (int64 arithmetic, spf13/cast conversions)', () => {
  check({
    '{{ add 1 2 3 }} {{ add1 5 }} {{ 3 | sub 14 }} {{ div 10 3 }} {{ 5 | div 10 }} {{ mul 1 2 3 }} {{ mod 10 3 }}': '6 6 11 3 2 6 1',
    '{{ max 1 5 3 }} {{ min 4 2 9 }} {{ biggest 1 2 }} {{ add "3" 2.9 true }}': '5 2 2 6',
    '{{ until 5 }} {{ until -3 }} {{ untilStep 0 10 3 }}': '[0 1 2 3 4] [0 -1 -2] [0 3 6 9]',
    '{{ seq 5 }}|{{ seq -3 }}|{{ seq 0 4 }}|{{ seq 1 2 10 }}|{{ seq 10 -3 1 }}|{{ seq 1 1 0 }}':
      '1 2 3 4 5|1 0 -1 -2 -3|0 1 2 3 4|1 3 5 7 9|10 7 4 1|',
    '{{ atoi "42" }} {{ atoi "4x" }} {{ int "1.0" }} {{ int64 "0x1F" }} {{ int 3.9 }} {{ int "nope" }} {{ float64 "1.5" }} {{ float64 3 }}':
      '42 0 1 31 3 0 1.5 3',
    '{{ printf "%T" (float64 3) }} {{ printf "%T" (add 1 2) }}': 'float64 int',
  });
  assert.throws(() => renderTemplate('{{ div 1 0 }}', {}), /integer divide by zero/);
});

test('lists and dicts', () => {
  check({
    '{{ list 1 2 3 | first }} {{ list 1 2 3 | last }} {{ list 1 2 3 | rest }} {{ list 1 2 3 | initial }}': '1 3 [2 3] [1 2]',
    '{{ list | first }} {{ list | rest }}': '<no value> []',
    '{{ append (list 1 2) 3 }} {{ prepend (list 1 2) 0 }} {{ list 1 1 2 1 | uniq }} {{ list 1 2 3 | reverse }}':
      '[1 2 3] [0 1 2] [1 2] [3 2 1]',
    '{{ compact (list 1 "" .nothing 2 0) }} {{ has 2 (list 1 2) }} {{ has "2" (list 1 2) }} {{ has 1 .nothing }}': '[1 2] true false false',
    '{{ without (list 1 2 3 2) 2 }} {{ concat (list 1) (list 2 3) }} {{ slice (list 1 2 3) 1 }} {{ slice (list) }}':
      '[1 3] [1 2 3] [2 3] <no value>',
    '{{ $d := dict "a" 1 "b" 2 }}{{ get $d "a" }} {{ get $d "z" }}|{{ hasKey $d "b" }} {{ keys $d | sortAlpha }} {{ $d }}':
      '1 |true [a b] map[a:1 b:2]',
    '{{ $d := dict "a" 1 }}{{ $_ := set $d "c" 3 }}{{ $d }} {{ unset $d "a" }}': 'map[a:1 c:3] map[c:3]',
    '{{ pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3) }} {{ dict "k" }}': '[1 3] map[k:]',
    '{{ pick (dict "a" 1 "b" 2) "a" }} {{ omit (dict "a" 1 "b" 2) "a" }} {{ values (dict "b" 2 "a" 1) }}': 'map[a:1] map[b:2] [1 2]',
    '{{ range $i, $v := list "x" "y" }}{{ $i }}{{ $v }}{{ end }}': '0x1y',
  });
});

test('non-hermetic functions are absent', () => {
  for (const fn of ['now', 'date', 'randAlpha', 'randAlphaNum', 'uuidv4', 'env', 'expandenv', 'getHostByName', 'randInt', 'shuffle']) {
    assert.throws(
      () => renderTemplate(`{{ ${fn} }}`, {}),
      (err: unknown) => {
        assert.ok(err instanceof TemplateError);
        assert.equal(err.code, 'InvalidCommitTemplate');
        assert.match(err.message, new RegExp(`function "${fn}" not defined`));
        return true;
      },
    );
  }
});

test('typed parameters are checked as Go checks them', () => {
  assert.throws(() => renderTemplate('{{ upper 3 }}', {}), /expected string; found 3/);
  assert.throws(() => renderTemplate('{{ trunc "a" "b" }}', {}), /expected integer; found "a"/);
  assert.throws(() => renderTemplate('{{ upper .n }}', { n: 3 }), /wrong type for value; expected string; got int/);
  assert.throws(() => renderTemplate('{{ upper .missing }}', {}), /invalid value; expected string/);
  // Leniency: a value with a String() method converts to a string parameter.
  assert.equal(renderTemplate('{{ upper .img }}', data), 'NGINX:1.2');
  assert.throws(() => renderTemplate('{{ repeat 2000000 "ab" }}', {}), /longer than/);
  assert.throws(() => renderTemplate('{{ until 1000000 }}', {}), /longer than/);
});
