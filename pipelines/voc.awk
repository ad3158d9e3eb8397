# voc.awk - the objects of a Pascal VOC annotation (BCCD's XML files), one
# line each: "NAME XMIN YMIN XMAX YMAX", the box as the file gives it
# (pixels counted from 1, inclusive).  Used by smears.sh and
# eval-real.sh:  awk -f pipelines/voc.awk FILE.xml
/<name>/ { name = $0; gsub(/.*<name>|<\/name>.*/, "", name) }
/<xmin>/ { x0 = $0; gsub(/[^0-9]/, "", x0) }
/<ymin>/ { y0 = $0; gsub(/[^0-9]/, "", y0) }
/<xmax>/ { x1 = $0; gsub(/[^0-9]/, "", x1) }
/<ymax>/ { y1 = $0; gsub(/[^0-9]/, "", y1) }
/<\/object>/ { print name, x0, y0, x1, y1 }
