# cmake -DINPUT=file -DSYMBOL=name -DOUTPUT=file.c -P embed_text.cmake
# Writes `const char SYMBOL[] = {...};` holding INPUT's bytes and a final NUL.
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUTPUT}" "/* Generated from ${INPUT}; do not edit. */\nconst char ${SYMBOL}[] = {${bytes}0x00};\n")
