"""Domain knowledge shared by the checks and the fixes: CNI configs, CIDRs, k3s, Multus.

Pure functions over plain data; facts come from ../shared/docs/reference/.
"""
