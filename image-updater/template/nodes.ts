/** The parse tree of a template, shaped like Go's text/template/parse nodes. */

export interface NodeBase {
  /** Offset in the template text, for line:col in errors. */
  pos: number;
}

export interface TextNode extends NodeBase {
  type: 'text';
  text: string;
}
export interface CommentNode extends NodeBase {
  type: 'comment';
  text: string;
}
export interface ActionNode extends NodeBase {
  type: 'action';
  pipe: PipeNode;
}
export interface IfNode extends NodeBase {
  type: 'if';
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}
export interface WithNode extends NodeBase {
  type: 'with';
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}
export interface RangeNode extends NodeBase {
  type: 'range';
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}
export interface TemplateNode extends NodeBase {
  type: 'template';
  name: string;
  pipe: PipeNode | null;
}
export interface BreakNode extends NodeBase {
  type: 'break';
}
export interface ContinueNode extends NodeBase {
  type: 'continue';
}
export interface ListNode extends NodeBase {
  type: 'list';
  nodes: Node[];
}

export interface PipeNode extends NodeBase {
  type: 'pipe';
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
export interface CommandNode extends NodeBase {
  type: 'command';
  args: ArgNode[];
}

export interface FieldNode extends NodeBase {
  type: 'field';
  ident: string[];
}
export interface VariableNode extends NodeBase {
  type: 'variable';
  ident: string[];
}
export interface ChainNode extends NodeBase {
  type: 'chain';
  node: ArgNode;
  field: string[];
}
export interface IdentifierNode extends NodeBase {
  type: 'identifier';
  ident: string;
}
export interface DotNode extends NodeBase {
  type: 'dot';
}
export interface NilNode extends NodeBase {
  type: 'nil';
}
export interface BoolNode extends NodeBase {
  type: 'bool';
  value: boolean;
}
export interface StringNode extends NodeBase {
  type: 'string';
  quoted: string;
  text: string;
}
export interface NumberNode extends NodeBase {
  type: 'number';
  text: string;
  isInt: boolean;
  isFloat: boolean;
  /** A bigint when the value is beyond 2^53, so large int64 constants print exactly. */
  int: number | bigint;
  float: number;
}

export type ArgNode =
  FieldNode | VariableNode | ChainNode | IdentifierNode | DotNode | NilNode | BoolNode | StringNode | NumberNode | PipeNode;

export type Node = TextNode | CommentNode | ActionNode | IfNode | WithNode | RangeNode | TemplateNode | BreakNode | ContinueNode | ListNode;

/** Source-like rendering of a node, as Go's Node.String() does (used in error context). */
export function nodeString(n: ArgNode | CommandNode | Node): string {
  switch (n.type) {
    case 'field':
      return n.ident.map((i) => `.${i}`).join('');
    case 'variable':
      return n.ident.join('.');
    case 'chain': {
      const inner = n.node.type === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node);
      return inner + n.field.map((f) => `.${f}`).join('');
    }
    case 'identifier':
      return n.ident;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return n.value ? 'true' : 'false';
    case 'string':
      return n.quoted;
    case 'number':
      return n.text;
    case 'pipe': {
      let s = '';
      if (n.decl.length > 0) s = n.decl.map(nodeString).join(', ') + (n.isAssign ? ' = ' : ' := ');
      return s + n.cmds.map(nodeString).join(' | ');
    }
    case 'command':
      return n.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'text':
      return n.text;
    case 'comment':
      return `{{${n.text}}}`;
    case 'action':
      return `{{${nodeString(n.pipe)}}}`;
    case 'if':
    case 'with':
    case 'range':
      return `{{${n.type} ${nodeString(n.pipe)}}}`;
    case 'template':
      return n.pipe ? `{{template "${n.name}" ${nodeString(n.pipe)}}}` : `{{template "${n.name}"}}`;
    case 'break':
      return '{{break}}';
    case 'continue':
      return '{{continue}}';
    case 'list':
      return n.nodes.map(nodeString).join('');
  }
}
