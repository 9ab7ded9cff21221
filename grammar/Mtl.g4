// Mtl.g4: the grammar of .mtl model files. The parser is generated at build time.
//
// The grammar is deliberately permissive about *values* (a generic expression and
// chain syntax) and strict about *structure*: sema gives far better messages for
// "unknown loss 'msee', did you mean 'mse'?" than a parser could.
grammar Mtl;

// A name that is the first token on its line: the lexer makes every name an
// IDENT and the parser's driver (Parser.cpp) retypes these before parsing.
tokens { LINE_IDENT }

file        : importDecl* topDecl* EOF ;
importDecl  : 'import' STRING ;
topDecl     : blockDecl | modelDecl ;

modelDecl   : 'model' name '{' modelItem* '}' ;
modelItem   : inputDecl | dataDecl | blockDecl | sharedDecl | taskDecl
            | balanceDecl | regularizeDecl | optimizerDecl | trainDecl | experimentDecl ;

// input x : f32[4]      input img : f32[1,28,28]      input ids : i32[8]
inputDecl   : 'input' name ':' dtype=name shape? ;
shape       : '[' INT (',' INT)* ']' ;

// data train = csv("penguins.csv", na = "NA") { x = columns(a, b) standardize }
dataDecl    : 'data' name '=' expr '{' binding* '}' ;
binding     : name '=' expr modifier* ;
// Any other word after a selection, on the same line, is read as a modifier too,
// so that sema can say "unknown modifier 'standardise'; did you mean ...?" and
// go on checking; a word that starts a line (LINE_IDENT) starts the next binding.
modifier    : 'standardize'                      # standardizeMod
            | 'as' name                          # asMod
            | 'scale' '(' expr ')'               # scaleMod
            | 'in' '[' expr (',' expr)* ']'      # inMod
            | word=IDENT
              ( after=IDENT | open='(' exprList? ')' | open='[' exprList? ']' )?  # otherMod
            ;
exprList    : expr (',' expr)* ;

// block mlp(width, p = 0.1) { dense(width) -> relu -> dropout(p) }
blockDecl   : 'block' name ('(' (param (',' param)*)? ')')? '{' chain '}' ;
param       : name ('=' expr)? ;

// shared trunk = x -> mlp(64)          shared soft(1e-3) tower = trunk -> dense(16)
sharedDecl  : 'shared' sharing=expr? name '=' chain ;

// task species : classify(3) { head = trunk -> dense(3)  loss = cross_entropy ... }
taskDecl    : 'task' name ':' kind=expr '{' taskField* '}' ;
taskField   : name ('=' chain (',' chain)*)? ;

balanceDecl    : 'balance' expr ;
regularizeDecl : 'regularize' regTerm (',' regTerm)* ;
regTerm        : expr ('on' name (',' name)*)? ;
optimizerDecl  : 'optimizer' expr ;
trainDecl      : 'train' '{' (setting (','? setting)*)? ','? '}' ;
// experiment { baselines = single_task, seeds = 5  search { weights = grid(...) } }
experimentDecl : 'experiment' '{' ((setting | searchDecl) ','?)* '}' ;
searchDecl     : 'search' '{' (setting (','? setting)*)? ','? '}' ;
setting        : name '=' expr ;

chain       : expr ('->' expr)* ;

expr        : '-' expr                               # negExpr
            | expr op=('*' | '/') expr               # mulExpr
            | expr op=('+' | '-') expr               # addExpr
            | primary                                # primaryExpr
            ;
primary     : NUMBER                                 # numberLit
            | INT                                    # intLit
            | STRING                                 # stringLit
            | ('true' | 'false')                     # boolLit
            | qualName ('(' (arg (',' arg)*)? ')')?  # nameOrCall
            | '[' (expr (',' expr)*)? ']'            # listLit
            | '(' chain ')'                          # parenExpr
            ;
// A chain may stand where a value is combined: mix(x -> gate(4), e1, e2).
arg         : (name '=')? chain ('..' expr)? ;
qualName    : name ('.' name)* ;

// Keywords stay usable as names (a data set called `train`, a column called `scale`).
name        : IDENT | LINE_IDENT | 'model' | 'input' | 'data' | 'block' | 'shared' | 'task'
            | 'balance' | 'regularize' | 'optimizer' | 'train' | 'experiment' | 'search'
            | 'import' | 'on' | 'as'
            | 'standardize' | 'scale' | 'in' ;

INT         : [0-9]+ ;
NUMBER      : [0-9]+ '.' [0-9]+ EXPONENT? | [0-9]+ EXPONENT | '.' [0-9]+ EXPONENT? ;
fragment EXPONENT : [eE] [+-]? [0-9]+ ;
STRING      : '"' (~["\\\r\n] | '\\' .)* '"' ;
IDENT       : [a-zA-Z_] [a-zA-Z_0-9]* ;
LINE_COMMENT  : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
WS          : [ \t\r\n]+ -> skip ;
ANY         : . ;
